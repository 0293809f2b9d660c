"""Accessibility measured by two independent tools over the demo centre's pages, as every
role, at a desktop's 1280 px and a phone's 360 px:

- axe-core (npm `axe-core`, injected into Chromium): no serious or critical violation;
- the Nu Html Checker (npm `vnu-jar`, run with Java once for all pages): no error;
- no page wider than the screen (a phone's page must not scroll sideways; wide tables
  scroll inside their own box).

Both come pinned from tests/browser/package.json; scripts/test-all.sh installs them with
`npm ci` into tests/browser/node_modules when missing. One server, one browser context per
role, each page loaded once (axe runs at both widths on the same page), one JVM.
"""

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from certificates.models import Certificate, CertificateTemplate
from courses import demo
from courses.models import Course, Material, Module
from events.models import Event, Registration, RegistrationStatus
from projects.models import Project
from tests.browser.support import settled_width, sticking_out
from tests.conftest import database_independent
from webapp.extensions import db
from webapp.models import OutboxMessage, Role, User

pytestmark = pytest.mark.browser

NODE_MODULES = Path(__file__).resolve().parent / "node_modules"
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
VNU = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
WIDTHS = (1280, 360)
FAILING_IMPACTS = {"serious", "critical"}
# The page's resize handlers (scroll-regions.js) run before the next frame.
AFTER_RESIZE = "() => new Promise((done) => requestAnimationFrame(() => setTimeout(done)))"
AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
  }));
}"""


@dataclass
class Findings:
    axe: list[str] = field(default_factory=list)
    minor: dict[str, set[str]] = field(default_factory=dict)  # reported, not failed
    overflow: list[str] = field(default_factory=list)
    pages: int = 0


def demo_pages() -> dict[str, list[str]]:
    """The pages each role opens in the demo centre (ids looked up after loading it)."""
    participant = db.session.scalar(select(User).where(User.email == demo.PARTICIPANT))
    trainer = db.session.scalar(select(User).where(User.email == demo.TRAINER_ORLOVA))
    learning = db.session.scalar(
        select(Registration)
        .join(Course, Course.id == Registration.event_id)
        .join(Module, Module.course_id == Course.id)
        .where(
            Registration.user_id == participant.id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
        .limit(1)
    )
    course = db.session.get(Course, learning.event_id)
    material = db.session.scalar(
        select(Material).join(Module).where(Module.course_id == course.id).limit(1)
    )
    taught = next(c for c in db.session.scalars(select(Course)) if trainer in c.trainers)
    event = db.session.scalar(select(Event).where(Event.kind == "event").limit(1))
    ticket = db.session.scalar(
        select(Registration).where(Registration.event_id == event.id).limit(1)
    )
    certificate = db.session.scalar(select(Certificate).limit(1))
    template = db.session.scalar(select(CertificateTemplate).limit(1))
    project = db.session.scalar(select(Project).limit(1))
    message = db.session.scalar(select(OutboxMessage).limit(1))
    session = taught.sessions[0]
    return {
        "guest": [
            "/",
            "/courses/",
            f"/courses/{course.id}",
            "/events/",
            f"/events/{event.id}",
            f"/t/{ticket.ticket_secret}",
            f"/verify/{certificate.code}",
            "/login",
            "/signup",
            "/password/reset",
            "/privacy",
        ],
        "participant": [
            "/my/learning",
            f"/courses/{course.id}",
            f"/courses/{course.id}/materials",
            f"/courses/{course.id}/materials/{material.id}",
            f"/my/courses/{course.id}/attendance",
            "/my/certificates",
            "/my/projects",
            "/profile",
            "/password/change",
        ],
        "trainer": [
            "/my/learning",
            f"/manage/sessions/{session.id}/attendance",
            f"/sessions/{session.id}/code",
            f"/manage/courses/{taught.id}/attendance",
            f"/manage/courses/{taught.id}/progress",
            f"/manage/courses/{taught.id}/answers",
        ],
        "organiser": [
            "/manage/courses",
            "/manage/programmes",
            f"/manage/courses/{taught.id}",
            f"/manage/courses/{taught.id}/sessions",
            f"/manage/courses/{taught.id}/enrolments",
            "/manage/events",
            f"/manage/events/{event.id}",
            f"/manage/events/{event.id}/registrants",
            f"/manage/events/{event.id}/questions",
            f"/events/{event.id}/certificates",
            f"/events/{event.id}/checkin",
            "/certificates/templates/",
            f"/certificates/templates/{template.id}",
            "/projects/board",
            f"/projects/{project.id}",
            "/reports/",
            "/reports/trained",
            "/reports/targets",
        ],
        "admin": [
            "/admin/users",
            f"/admin/users/{participant.id}",
            "/admin/outbox",
            f"/admin/outbox/{message.id}",
        ],
    }


def sign_in(page, email: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", demo.DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


def check_role(chromium, base_url: str, email: str | None, paths, html_dir: Path, found):
    context = chromium.new_context(
        base_url=base_url, locale="ru-RU", viewport={"width": WIDTHS[0], "height": 900}
    )
    context.add_init_script(path=str(AXE))  # injected like an extension: no CSP applies
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        if email:
            sign_in(page, email)
        for path in paths:
            response = page.goto(path)
            assert response.ok, f"{path}: {response.status}"
            name = f"{email or 'guest'}{path}".replace("/", "_").replace("@", "-")
            (html_dir / f"{name}.html").write_bytes(response.body())
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                page.evaluate(AFTER_RESIZE)
                wide = settled_width(page, width)
                if wide > width:  # the page scrolls sideways: it does not fit that screen
                    culprits = ", ".join(sticking_out(page, width))
                    found.overflow.append(
                        f"{path} @{width}px as {email or 'guest'}: {wide}px ({culprits})"
                    )
                for violation in page.evaluate(AXE_RUN):
                    where = f"{path} @{width}px as {email or 'guest'}"
                    text = f"{violation['id']} ({violation['impact']}): {violation['help']}"
                    if violation["impact"] in FAILING_IMPACTS:
                        found.axe.append(f"{where}: {text} {violation['nodes']}")
                    else:
                        found.minor.setdefault(text, set()).add(path)
            found.pages += 1
    finally:
        context.close()


def nu_errors(html_dir: Path) -> list[str]:
    """Every page in one JVM call; the messages as 'page: line: message'."""
    run = subprocess.run(
        ["java", "-jar", str(VNU), "--errors-only", "--format", "json", "--exit-zero-always",
         *sorted(str(p) for p in html_dir.glob("*.html"))],
        capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    messages = json.loads(run.stderr or run.stdout)["messages"]
    return [
        f"{Path(m.get('url', '')).name}:{m.get('lastLine', '?')}: {m['message']}"
        f" [{m.get('extract', '').strip()[:80]}]"
        for m in messages
        if m["type"] == "error" or m.get("subType") == "fatal"
    ]


@database_independent
def test_every_roles_pages_pass_axe_and_the_nu_checker(
    app_ctx, live_server, chromium, tmp_path, capsys
):
    if not (AXE.exists() and VNU.exists()):
        pytest.skip("run `npm ci` in tests/browser (scripts/test-all.sh does it)")
    if shutil.which("java") is None:
        pytest.skip("Java runs the Nu Html Checker: install default-jre-headless")
    demo.load_demo_data()
    pages = demo_pages()
    logins = dict(demo.DEMO_LOGINS)
    emails = {
        "guest": None,
        "participant": demo.PARTICIPANT,
        "trainer": demo.TRAINER_ORLOVA,
        "organiser": logins[Role.ORGANISER],
        "admin": logins[Role.ADMIN],
    }
    found = Findings()
    for role, paths in pages.items():
        check_role(chromium, live_server.url, emails[role], paths, tmp_path, found)
    errors = nu_errors(tmp_path)
    with capsys.disabled():
        print(f"\naccessibility: {found.pages} pages × {len(WIDTHS)} widths")
        for text, paths in sorted(found.minor.items()):
            print(f"  axe, not failing: {text} on {', '.join(sorted(paths))}")
    assert found.pages >= 30
    assert not live_server.errors, f"the server failed: {live_server.errors!r}"
    report = ["axe-core found:", *found.axe, "the Nu Html Checker found:", *errors]
    report += ["wider than the screen:", *found.overflow]
    assert not (found.axe or errors or found.overflow), "\n".join(report)
