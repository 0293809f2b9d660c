"""Who may open what: every route of the app, as every role, against one explicit table.

A route added to the app must be added to PERMISSIONS_TABLE (and a route removed from the
app removed from it), so nobody ships a page without deciding who may see it.

Each route is requested once per role with fresh data: a GET, or for a POST-only route a
POST with an empty body (CSRF is off in the test app). An expected answer is a status code,
or a path: a 302 redirect to that path, where `{course_id}` and the like are the ids of the
data built for the test.
"""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from flask import url_for
from sqlalchemy import select
from werkzeug.routing import Rule

from courses import services as course_services
from events.models import Event, Question, Session
from events.services import calendars, seats
from tests.certificate_templates_support import certificate_templates_world
from tests.certificates_support import certificates_world
from tests.conftest import make_user
from tests.materials_support import materials_world
from tests.outcomes_support import outcomes_world
from tests.projects_support import projects_world
from webapp.extensions import db
from webapp.models import OutboxMessage, Role, User
from webapp.services import password_reset_token
from webapp.types import utcnow

ROLES = ("anonymous", "participant", "trainer", "organiser", "admin")
LOGIN = "/login"
COURSE = "/courses/{course_id}"
MY_LEARNING = "/my/learning"
SESSIONS = "/manage/courses/{course_id}/sessions"
ENROLMENTS = "/manage/courses/{course_id}/enrolments"
REGISTRANTS = "/manage/events/{event_id}/registrants"
AGENDA = "/manage/events/{event_id}/sessions"
QUESTIONS = "/manage/events/{event_id}/questions"
ATTENDANCE = "/manage/sessions/{session_id}/attendance"
MATERIALS = "/courses/{course_id}/materials"
MATERIAL = "/courses/{course_id}/materials/{material_id}"
PROGRESS = "/manage/courses/{course_id}/progress"
ANSWERS = "/manage/courses/{course_id}/answers"
EVENT_CERTIFICATES = "/events/{event_id}/certificates"
COURSE_CERTIFICATES = "/events/{course_id}/certificates"
PROJECT = "/projects/{project_id}"
STEPS = "/manage/programmes/{programme_id}/steps"
TEMPLATES = "/certificates/templates/"
TEMPLATE = "/certificates/templates/{template_id}"
OUTBOX_MSG = "/admin/outbox/{message_id}"
FEEDBACK_FORM = "/manage/feedback/{form_id}"
STORY = "/projects/{project_id}/story"
STORY_REVIEW = "/manage/stories"
NOT_ROUTES = {  # files, not pages
    "static",
    "bootstrap.static",
    "events.static",
    "reports.static",
    "certificates.static",
    "feedback.static",
}

# The participant is enrolled in the course and the trainer teaches it.
# fmt: off
PERMISSIONS_TABLE = {
    #                                  anon   participant  trainer      organiser    admin
    # accounts
    "webapp.signup":                  (200,   MY_LEARNING, MY_LEARNING, MY_LEARNING, MY_LEARNING),
    "webapp.login":                   (200,   MY_LEARNING, MY_LEARNING, MY_LEARNING, MY_LEARNING),
    "webapp.logout":                  (200,   200,         200,         200,         200),
    "webapp.password_reset_request":  (200,   200,         200,         200,         200),
    "webapp.password_reset":          (200,   200,         200,         200,         200),
    "webapp.password_change":         (LOGIN, 200,         200,         200,         200),
    "webapp.profile":                 (LOGIN, 200,         200,         200,         200),
    "webapp.personal_data":           (LOGIN, 200,         200,         200,         200),
    "webapp.delete_account":          (LOGIN, 200,         200,         200,         200),
    "webapp.privacy":                 (200,   200,         200,         200,         200),
    "webapp.set_language":            ("/",   "/",         "/",         "/",         "/"),
    "webapp.healthz":                 (200,   200,         200,         200,         200),
    "webapp.metrics":                 (200,   200,         200,         200,         200),
    # admin
    "webapp.admin_users":             (LOGIN, 403,         403,         403,         200),
    "webapp.admin_user":              (LOGIN, 403,         403,         403,         200),
    "webapp.admin_outbox":            (LOGIN, 403,         403,         403,         200),
    "webapp.admin_outbox_message":    (LOGIN, 403,         403,         403,         200),
    "webapp.admin_outbox_preview":    (LOGIN, 403,         403,         403,         200),
    # the world's message is queued, not failed: refused with a message, back to it
    "webapp.admin_outbox_resend":     (LOGIN, 403,         403,         403,         OUTBOX_MSG),
    # public course pages and API
    "courses.index":                  (200,   200,         200,         200,         200),
    "courses.catalogue":              (200,   200,         200,         200,         200),
    "courses.course_page":            (200,   200,         200,         200,         200),
    "courses.api_courses":            (200,   200,         200,         200,         200),
    "courses.api_course":             (200,   200,         200,         200,         200),
    # enrolment (POST only): enrolling twice is harmless; only the enrolled may cancel
    "courses.enrol":                  (LOGIN, COURSE,      COURSE,      COURSE,      COURSE),
    "courses.cancel":                 (LOGIN, COURSE,      400,         400,         400),
    "courses.my_learning":            (LOGIN, 200,         200,         200,         200),
    # management
    "courses.manage_courses":         (LOGIN, 403,         403,         200,         200),
    "courses.manage_programmes":      (LOGIN, 403,         403,         200,         200),
    "courses.edit_programme":         (LOGIN, 403,         403,         200,         200),
    "courses.new_course":             (LOGIN, 403,         403,         200,         200),
    "courses.edit_course":            (LOGIN, 403,         403,         200,         200),
    "courses.manage_sessions":        (LOGIN, 403,         403,         200,         200),
    "courses.edit_session":           (LOGIN, 403,         403,         200,         200),
    "courses.delete_session":         (LOGIN, 403,         403,         SESSIONS,    SESSIONS),
    # the enrolment list: the course's own trainer too
    "courses.enrolments":             (LOGIN, 403,         200,         200,         200),
    "courses.export_enrolments":      (LOGIN, 403,         200,         200,         200),
    # an empty status form changes nothing and goes back to the list (POST only)
    "courses.change_status":          (LOGIN, 403,         403,         ENROLMENTS,  ENROLMENTS),
    # an event's registrant list (its check-in staff may read it): organisers change it;
    # an empty status form changes nothing and goes back to the list (POST only)
    "events.registrants":             (LOGIN, 403,         403,         200,         200),
    "events.export_registrants":      (LOGIN, 403,         403,         200,         200),
    "events.edit_registrant":         (LOGIN, 403,         403,         200,         200),
    "events.registrant_action":       (LOGIN, 403,         403,         REGISTRANTS, REGISTRANTS),
    "events.import_registrants_page": (LOGIN, 403,         403,         200,         200),
    "events.import_sample":           (LOGIN, 403,         403,         200,         200),
    # bulk actions (an empty form changes nothing), the door list (staff too) and badges
    "events.registrants_bulk":        (LOGIN, 403,         403,         REGISTRANTS, REGISTRANTS),
    "events.door_list_pdf":           (LOGIN, 403,         403,         200,         200),
    "events.badges_pdf":              (LOGIN, 403,         403,         200,         200),
    # public event pages, tickets (anyone with the link) and the events API
    "events.event_list":              (200,   200,         200,         200,         200),
    "events.event_page":              (200,   200,         200,         200,         200),
    "events.ticket":                  (200,   200,         200,         200,         200),
    "events.cancel_ticket":           (200,   200,         200,         200,         200),
    "events.ticket_qr_png":           (200,   200,         200,         200,         200),
    "events.ticket_qr_svg":           (200,   200,         200,         200,         200),
    "events.ticket_pdf":              (200,   200,         200,         200,         200),
    "events.ticket_calendar":         (200,   200,         200,         200,         200),
    # calendars: public like the pages; the personal feed's token is its credential
    "events.event_calendar":          (200,   200,         200,         200,         200),
    "courses.course_calendar":        (200,   200,         200,         200,         200),
    "events.personal_calendar":       (200,   200,         200,         200,         200),
    "events.api_events":              (200,   200,         200,         200,         200),
    "events.api_event":               (200,   200,         200,         200,         200),
    # managing events: organisers only (an event's check-in staff do not edit it)
    "events.manage_events":           (LOGIN, 403,         403,         200,         200),
    "events.new_event":               (LOGIN, 403,         403,         200,         200),
    "events.manage_event":            (LOGIN, 403,         403,         200,         200),
    "events.cancel_event":            (LOGIN, 403,         403,         200,         200),
    "events.write_to_registrants":    (LOGIN, 403,         403,         200,         200),
    "events.event_sessions":          (LOGIN, 403,         403,         200,         200),
    "events.edit_event_session":      (LOGIN, 403,         403,         200,         200),
    "events.event_questions":         (LOGIN, 403,         403,         200,         200),
    "events.edit_question":           (LOGIN, 403,         403,         200,         200),
    # POST only; the event's one session is never deleted
    "events.delete_event_session":    (LOGIN, 403,         403,         AGENDA,      AGENDA),
    # POST only; the world's session belongs to its course
    "events.cancel_session":          (LOGIN, 403,         403,         SESSIONS,    SESSIONS),
    "events.delete_question":         (LOGIN, 403,         403,         QUESTIONS,   QUESTIONS),
    "events.move_question":           (LOGIN, 403,         403,         QUESTIONS,   QUESTIONS),
    # door check-in: organisers and the event's staff (the trainer is neither here); its JSON
    # helpers answer 401 signed out; the service worker is code only; an empty POST is a
    # malformed body (400), and the API's cookie path checks who it is first (401)
    "events.checkin_page":            (LOGIN, 403,         403,         200,         200),
    "events.checkin_service_worker":  (200,   200,         200,         200,         200),
    "events.checkin_stats":           (401,   403,         403,         200,         200),
    "events.checkin_attendees":       (401,   403,         403,         200,         200),
    "events.checkin_search":          (401,   403,         403,         200,         200),
    "events.checkin_undo":            (401,   403,         403,         400,         400),
    "events.api_checkin":             (401,   400,         400,         400,         400),
    # course attendance: the course's trainers and organisers; an empty mark is a bad
    # request; the world's session is next week, so any self-scan is refused (403)
    "courses.session_attendance":     (LOGIN, 403,         200,         200,         200),
    "courses.session_attendance_json": (LOGIN, 403,        200,         200,         200),
    "courses.mark_attendance":        (LOGIN, 403,         400,         400,         400),
    "courses.mark_rest_absent":       (LOGIN, 403,         ATTENDANCE,  ATTENDANCE,  ATTENDANCE),
    "courses.session_code":           (LOGIN, 403,         200,         200,         200),
    "courses.session_code_json":      (LOGIN, 403,         200,         200,         200),
    "courses.self_scan":              (403,   403,         403,         403,         403),
    "courses.course_attendance":      (LOGIN, 403,         200,         200,         200),
    "courses.export_attendance":      (LOGIN, 403,         200,         200,         200),
    "courses.my_attendance":          (LOGIN, 200,         404,         404,         404),
    # learning materials: confirmed participants, the course's trainers and organisers;
    # staff preview without progress, so their "done" and answers are bad requests
    "courses.materials":              (LOGIN, 200,         200,         200,         200),
    "courses.material":               (LOGIN, 200,         200,         200,         200),
    "courses.material_file":          (LOGIN, 200,         200,         200,         200),
    "courses.mark_done":              (LOGIN, MATERIAL,    400,         400,         400),
    "courses.answer_task":            (LOGIN, MATERIAL,    400,         400,         400),
    "courses.answer_file":            (LOGIN, 200,         200,         200,         200),
    "courses.new_module":             (LOGIN, 403,         200,         200,         200),
    "courses.edit_module":            (LOGIN, 403,         200,         200,         200),
    "courses.move_module":            (LOGIN, 403,         MATERIALS,   MATERIALS,   MATERIALS),
    "courses.toggle_module":          (LOGIN, 403,         MATERIALS,   MATERIALS,   MATERIALS),
    "courses.delete_module":          (LOGIN, 403,         MATERIALS,   MATERIALS,   MATERIALS),
    "courses.new_material":           (LOGIN, 403,         200,         200,         200),
    "courses.edit_material":          (LOGIN, 403,         200,         200,         200),
    "courses.move_material":          (LOGIN, 403,         MATERIALS,   MATERIALS,   MATERIALS),
    "courses.toggle_material":        (LOGIN, 403,         MATERIALS,   MATERIALS,   MATERIALS),
    "courses.delete_material":        (LOGIN, 403,         MATERIALS,   MATERIALS,   MATERIALS),
    "courses.progress":               (LOGIN, 403,         200,         200,         200),
    "courses.export_progress":        (LOGIN, 403,         200,         200,         200),
    "courses.task_answers":           (LOGIN, 403,         200,         200,         200),
    "courses.review_answer":          (LOGIN, 403,         ANSWERS,     ANSWERS,     ANSWERS),
    "courses.sign_off":               (LOGIN, 403,         PROGRESS,    PROGRESS,    PROGRESS),
    # completion rules are the organiser's
    "courses.completion_rules":       (LOGIN, 403,         403,         PROGRESS,    PROGRESS),
    # personal API tokens for check-in apps (POST only): those who check people in
    "webapp.create_api_token":        (LOGIN, 403,         200,         200,         200),
    "webapp.revoke_api_token":        (LOGIN, "/profile",  "/profile",  "/profile",  "/profile"),
    "webapp.reset_calendar_feed":     (LOGIN, "/profile",  "/profile",  "/profile",  "/profile"),
    "webapp.sign_out_other_devices":  (LOGIN, "/profile",  "/profile",  "/profile",  "/profile"),
    # issuing certificates: organisers, and a course's own trainers for the course; the
    # world's event does not issue certificates, its course does (the participant has one);
    # empty POSTs: the participant has not completed the course, the event issues none
    "certificates.event_certificates": (LOGIN, 403,         403,         200,         200),
    "certificates.issue_certificate":  (LOGIN, 403,         COURSE_CERTIFICATES, COURSE_CERTIFICATES, COURSE_CERTIFICATES),  # noqa: E501
    "certificates.reissue_certificate": (LOGIN, 403,        COURSE_CERTIFICATES, COURSE_CERTIFICATES, COURSE_CERTIFICATES),  # noqa: E501
    "certificates.revoke_certificate": (LOGIN, 403,         200,         200,         200),
    "certificates.start_batch":       (LOGIN, 403,         403,         EVENT_CERTIFICATES, EVENT_CERTIFICATES),  # noqa: E501
    # the course's unfinished bulk issue: a step runs, its ZIP is not there yet
    "certificates.batch_page":        (LOGIN, 403,         200,         200,         200),
    "certificates.batch_step":        (LOGIN, 403,         200,         200,         200),
    "certificates.batch_zip":         (LOGIN, 403,         404,         404,         404),
    # a certificate's PDF: its holder and those who manage its course
    "certificates.certificate_pdf":   (LOGIN, 200,         200,         200,         200),
    "certificates.my_certificates":   (LOGIN, 200,         200,         200,         200),
    # a guest's certificate by the ticket's secret: the world's guest holds none
    "certificates.ticket_certificate_pdf": (404, 404,         404,         404,         404),
    # verification is public: the page, its JSON, the signed credential, the public key
    "certificates.verify":            (200,   200,         200,         200,         200),
    "certificates.verify_status":     (200,   200,         200,         200,         200),
    "certificates.credential":        (200,   200,         200,         200,         200),
    "certificates.jwks":              (200,   200,         200,         200,         200),
    "certificates.revocation_status_list": (200, 200,         200,         200,         200),
    # certificate templates: organisers; empty forms are refused (400) or change nothing
    # and go back to the editor or the list
    "certificates.templates":         (LOGIN, 403,         403,         200,         200),
    "certificates.new_template":      (LOGIN, 403,         403,         400,         400),
    "certificates.edit_template":     (LOGIN, 403,         403,         200,         200),
    "certificates.template_settings": (LOGIN, 403,         403,         400,         400),
    "certificates.template_layout":   (LOGIN, 403,         403,         400,         400),
    "certificates.template_preview":  (LOGIN, 403,         403,         200,         200),
    "certificates.template_background_png": (LOGIN, 403,   403,         200,         200),
    "certificates.template_background": (LOGIN, 403,       403,         TEMPLATE,    TEMPLATE),
    "certificates.remove_background": (LOGIN, 403,         403,         TEMPLATE,    TEMPLATE),
    "certificates.template_signature": (LOGIN, 403,        403,         TEMPLATE,    TEMPLATE),
    "certificates.template_asset":    (LOGIN, 403,         403,         200,         200),
    "certificates.duplicate_template": (LOGIN, 403,        403,         TEMPLATES,   TEMPLATES),
    "certificates.delete_template":   (LOGIN, 403,         403,         TEMPLATES,   TEMPLATES),
    "certificates.default_template":  (LOGIN, 403,         403,         TEMPLATES,   TEMPLATES),
    # projects: the participant leads the world's project and the trainer mentors it; the
    # team edits, the mentor ticks steps and logs consultations, organisers do everything;
    # an empty POST changes nothing and goes back to the project
    "projects.my_projects":           (LOGIN, 200,         200,         200,         200),
    "projects.new_project":           (LOGIN, 200,         200,         200,         200),
    "projects.project_page":          (LOGIN, 200,         200,         200,         200),
    "projects.edit_project":          (LOGIN, 200,         403,         200,         200),
    "projects.add_step":              (LOGIN, PROJECT,     403,         PROJECT,     PROJECT),
    "projects.step_action":           (LOGIN, PROJECT,     403,         PROJECT,     PROJECT),
    "projects.new_milestone":         (LOGIN, 200,         403,         200,         200),
    "projects.edit_milestone":        (LOGIN, 200,         403,         200,         200),
    "projects.delete_milestone":      (LOGIN, PROJECT,     403,         PROJECT,     PROJECT),
    "projects.new_consultation":      (LOGIN, 200,         200,         200,         200),
    "projects.roadmap_pdf":           (LOGIN, 200,         200,         200,         200),
    "projects.roadmap_xlsx":          (LOGIN, 200,         200,         200,         200),
    # level decisions, mentors, the board and the programmes' default steps: organisers
    "projects.change_level":          (LOGIN, 403,         403,         200,         200),
    "projects.set_mentor":            (LOGIN, 403,         403,         PROJECT,     PROJECT),
    "projects.board":                 (LOGIN, 403,         403,         200,         200),
    "projects.programme_steps":       (LOGIN, 403,         403,         200,         200),
    "projects.programme_step":        (LOGIN, 403,         403,         STEPS,       STEPS),
    # the monitoring dashboard, the lists behind its numbers and their exports: organisers
    "reports.dashboard":              (LOGIN, 403,         403,         200,         200),
    "reports.listing":                (LOGIN, 403,         403,         200,         200),
    "reports.export_listing":         (LOGIN, 403,         403,         200,         200),
    "reports.funder_workbook":        (LOGIN, 403,         403,         200,         200),
    "reports.targets":                (LOGIN, 403,         403,         200,         200),
    # feedback: organisers build forms; results for organisers and the course's trainers;
    # the answer page is anyone's with the personal link (an empty answer misses required
    # questions: 400); empty POSTs change nothing and go back to the form
    "feedback.event_forms":           (LOGIN, 403,         403,         200,         200),
    "feedback.edit_form":             (LOGIN, 403,         403,         200,         200),
    "feedback.delete_question":       (LOGIN, 403,         403,         FEEDBACK_FORM, FEEDBACK_FORM),  # noqa: E501
    "feedback.set_active":            (LOGIN, 403,         403,         FEEDBACK_FORM, FEEDBACK_FORM),  # noqa: E501
    "feedback.results":               (LOGIN, 403,         200,         200,         200),
    "feedback.export_results":        (LOGIN, 403,         200,         200,         200),
    "feedback.overview":              (LOGIN, 403,         403,         200,         200),
    "feedback.answer":                (200,   200,         200,         200,         200),
    # the entry audit and the story: the team and organisers (the mentor reads the
    # project page, photos included); organisers approve; the public stories and their API
    "stories.take_audit":             (LOGIN, 200,         403,         200,         200),
    "stories.edit_story":             (LOGIN, 200,         403,         200,         200),
    "stories.submit_story":           (LOGIN, STORY,       403,         STORY,       STORY),
    "stories.add_photo":              (LOGIN, STORY,       403,         STORY,       STORY),
    "stories.change_photo":           (LOGIN, STORY,       403,         STORY,       STORY),
    "stories.team_photo":             (LOGIN, 200,         200,         200,         200),
    "stories.review_queue":           (LOGIN, 403,         403,         200,         200),
    "stories.review_story":           (LOGIN, 403,         403,         STORY_REVIEW, STORY_REVIEW),  # noqa: E501
    "stories.story_list":             (200,   200,         200,         200,         200),
    "stories.story_page":             (200,   200,         200,         200,         200),
    "stories.public_photo":           (200,   200,         200,         200,         200),
    "stories.api_stories":            (200,   200,         200,         200,         200),
}
# fmt: on
PERMISSIONS = {
    endpoint: dict(zip(ROLES, answers, strict=True))
    for endpoint, answers in PERMISSIONS_TABLE.items()
}


@pytest.fixture
def world(users, course) -> dict:
    """The data every route's URL points into; returns the URL arguments by name."""
    course.trainers.append(users["trainer"])
    db.session.commit()
    registration = course_services.enrol(course, users["participant"]).registration
    event = Event(kind="event", title="Форум", capacity=10, visibility="published")
    starts = utcnow() + timedelta(days=7)
    event.sessions.append(Session(starts_at=starts, ends_at=starts + timedelta(hours=2)))
    event.questions.append(Question(label="Секция?", kind="text"))
    db.session.add(event)
    db.session.commit()
    registrant = seats.register(event.id, full_name="Гость", email="guest@example.org")
    return {
        "event_id": event.id,
        "registrant_id": registrant.registration.id,
        "event_session_id": event.sessions[0].id,
        "question_id": event.questions[0].id,
        "direction": "down",
        "secret": registrant.registration.ticket_secret,
        "course_id": course.id,
        "programme_id": course.programme_id,
        "session_id": course.sessions[0].id,
        "registration_id": registration.id,
        "user_id": users["participant"].id,
        "token": password_reset_token(users["participant"]),
        "feed_token": calendars.reset_feed_token(users["participant"]),
        "message_id": db.session.scalar(select(OutboxMessage.id).limit(1)),  # the enrolment's
        "template": "events/mail/ticket",
        "code": "en",
        "fmt": "csv",
        "indicator": "trained",
        **materials_world(course, registration),
        **certificates_world(course, registration),
        **certificate_templates_world(),
        **(projects := projects_world(users, course)),
        **outcomes_world(users, course, registration, projects["project_id"]),
    }


def sign_in(client, user: User | None) -> None:
    """Put the user in the session cookie (what /login does, without the slow hash check)."""
    if user is not None:
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True


def app_rules(app) -> dict[str, Rule]:
    return {
        rule.endpoint: rule for rule in app.url_map.iter_rules() if rule.endpoint not in NOT_ROUTES
    }


def url_of(rule: Rule, world: dict) -> str:
    missing = rule.arguments - world.keys()
    assert not missing, f"{rule.rule}: give the world fixture a value for {sorted(missing)}"
    return url_for(rule.endpoint, **{name: world[name] for name in rule.arguments})


def assert_answer(response, expected, world: dict, what: str) -> None:
    if isinstance(expected, str):
        assert response.status_code == 302, f"{what}: {response.status_code}, expected a redirect"
        target = urlsplit(response.headers["Location"]).path
        assert target == expected.format(**world), f"{what}: redirected to {target}"
    else:
        assert response.status_code == expected, f"{what}: {response.status_code}"


def test_the_table_lists_every_route_of_the_app(app):
    in_app = set(app_rules(app))
    missing = sorted(in_app - PERMISSIONS.keys())
    gone = sorted(PERMISSIONS.keys() - in_app)
    assert not (missing or gone), (
        f"routes with no line in PERMISSIONS_TABLE: {missing}; "
        f"lines for routes the app no longer has: {gone}"
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(PERMISSIONS))
def test_route_answers_each_role_as_the_table_says(app, client, users, world, endpoint, role):
    rule = app_rules(app).get(endpoint)
    assert rule is not None, f"{endpoint} is in the table but not in the app"
    method = "GET" if "GET" in rule.methods else "POST"
    sign_in(client, users.get(role))
    url = url_of(rule, world)
    response = client.get(url) if method == "GET" else client.post(url, data={})
    assert_answer(response, PERMISSIONS[endpoint][role], world, f"{method} {rule.rule} as {role}")


@pytest.mark.parametrize("role", ROLES)
def test_a_role_refused_a_page_is_refused_its_form_too(app, client, users, world, role):
    """POST is never more open than GET: where the table refuses a role the page of a
    GET-and-POST route (403, or a redirect to sign in), an empty POST is refused the same way."""
    sign_in(client, users.get(role))
    checked = []
    for endpoint, rule in sorted(app_rules(app).items()):
        expected = PERMISSIONS.get(endpoint, {}).get(role)  # a route not in the table fails above
        if {"GET", "POST"} <= rule.methods and expected in (403, LOGIN):
            response = client.post(url_of(rule, world), data={})
            assert_answer(response, expected, world, f"POST {rule.rule} as {role}")
            checked.append(endpoint)
    if role != "admin":
        assert checked, f"no form refused to {role}: is the table right?"


def test_only_the_courses_own_trainer_sees_its_enrolment_list(client, users, world):
    other_trainer = make_user("trainer2@example.org", Role.TRAINER)
    enrolments = f"/manage/courses/{world['course_id']}/enrolments"
    urls = [enrolments, f"{enrolments}.csv", f"{enrolments}.xlsx"]
    for user, expected in [
        (users["participant"], 403),
        (other_trainer, 403),
        (users["trainer"], 200),
    ]:
        sign_in(client, user)
        for url in urls:
            assert client.get(url).status_code == expected, f"{url} as {user.email}"
