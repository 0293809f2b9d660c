"""Accounts, profile, admin of users, language, health and error pages."""

import json
import secrets
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from webapp import LANGUAGES, health, services
from webapp import metrics as metrics_module
from webapp.extensions import db, limiter
from webapp.forms import (
    ApiTokenForm,
    ChangePasswordForm,
    ConfirmForm,
    DeleteAccountForm,
    LoginForm,
    ProfileForm,
    ResetPasswordForm,
    ResetRequestForm,
    RevokeApiTokenForm,
    RoleForm,
    SignupForm,
)
from webapp.models import Role, User
from webapp.permissions import roles_required
from webapp.urls import absolute_url_for

bp = Blueprint("webapp", __name__)


def safe_next(default: str) -> str:
    """Only same-site paths: an open redirect would let a phishing link borrow our name."""
    target = request.values.get("next", "")
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target
    return default


def _login_rate_limit() -> str:
    return current_app.config["TROPA_LOGIN_RATE_LIMIT"]


def _login_address_rate_limit() -> str:
    return current_app.config["TROPA_LOGIN_ADDRESS_RATE_LIMIT"]


def _login_account_key() -> str:
    return "login:" + services.normalise_email(request.form.get("email", ""))


def _login_failed(_response) -> bool:
    """Only wrong passwords use up the sign-in limits: a class behind one address signs in
    at once, while guessing one account's password stops after a few tries."""
    return g.get("login_failed", False)


def _sign_in_again(user: User) -> None:
    """Keep this browser signed in under the account's new session version (the remember-me
    cookie, if it had one, is issued again with it)."""
    remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
    login_user(user, remember=remembered)


# --- accounts ----------------------------------------------------------------------------


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("courses.my_learning"))
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user = services.sign_up(
                email=form.email.data,
                password=form.password.data,
                full_name=form.full_name.data,
                locale=session.get("lang"),
            )
        except services.AccountError as error:
            getattr(form, error.field).errors.append(error.message)
        else:
            login_user(user)
            flash(_("Welcome! Please complete your profile: reports count what is filled."))
            return redirect(url_for("webapp.profile"))
    return render_template("webapp/signup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_address_rate_limit, methods=["POST"], deduct_when=_login_failed)
@limiter.limit(
    _login_rate_limit, methods=["POST"], key_func=_login_account_key, deduct_when=_login_failed
)
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(url_for("courses.my_learning")))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user:
            login_user(user, remember=form.remember.data)
            return redirect(safe_next(url_for("courses.my_learning")))
        g.login_failed = True
        form.password.errors.append(_("Wrong e-mail or password."))
    return render_template("webapp/login.html", form=form)


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    if request.method == "POST":
        if current_user.is_authenticated:
            # Ends the remember-me cookie too, wherever a copy of it is.
            services.end_sessions(current_user._get_current_object())
        logout_user()
        flash(_("You have signed out."))
        return redirect(url_for("courses.index"))
    return render_template("webapp/logout.html")


@bp.route("/password/reset", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"])
def password_reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        user = services.find_user(form.email.data)
        if user and user.is_active:
            link = absolute_url_for(
                "webapp.password_reset", token=services.password_reset_token(user)
            )
            services.mail_password_reset(user, link)
        # The same answer whether or not the address is known: no account enumeration.
        flash(_("If this address has an account, a link to reset the password is on its way."))
        return redirect(url_for("webapp.login"))
    return render_template("webapp/password_reset_request.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def password_reset(token: str):
    user = services.user_from_reset_token(token)
    if user is None:
        flash(_("This link is invalid or has expired. Ask for a new one."), "danger")
        return redirect(url_for("webapp.password_reset_request"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        services.change_password(user, form.password.data)
        flash(_("Your password has been changed. Please sign in."))
        return redirect(url_for("webapp.login"))
    return render_template("webapp/password_reset.html", form=form)


@bp.route("/password/change", methods=["GET", "POST"])
@login_required
def password_change():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if services.authenticate(current_user.email, form.current_password.data):
            user = current_user._get_current_object()
            services.change_password(user, form.password.data)
            _sign_in_again(user)
            flash(_("Your password has been changed. Other devices are signed out."))
            return redirect(url_for("webapp.profile"))
        form.current_password.errors.append(_("The current password is wrong."))
    return render_template("webapp/password_change.html", form=form)


# --- profile and personal data -----------------------------------------------------------


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    user: User = current_user
    form = ProfileForm(obj=user)
    if request.method == "GET":
        _show_organisation(form, user)
    if form.validate_on_submit():
        services.update_profile(
            user,
            services.ProfileData(
                full_name=form.full_name.data,
                phone=form.phone.data,
                municipality=form.municipality.data,
                organisation_type=form.organisation_type.data,
                organisation_name=form.organisation_name.data,
                inn=form.inn.data,
                locale=form.locale.data,
            ),
        )
        session["lang"] = user.locale or session.get("lang")
        flash(_("Profile saved."))
        return redirect(url_for("webapp.profile"))
    return _profile_page(form)


def _profile_page(form: ProfileForm, token_form: ApiTokenForm | None = None, new_token=None):
    """The profile with, for those who check people in, their API tokens."""
    may_hold_tokens = services.may_hold_api_tokens(current_user)
    return render_template(
        "webapp/profile.html",
        form=form,
        may_hold_tokens=may_hold_tokens,
        tokens=services.api_tokens_of(current_user) if may_hold_tokens else [],
        token_form=token_form or ApiTokenForm(prefix="token", formdata=None),
        revoke_form=RevokeApiTokenForm(formdata=None),
        new_token=new_token,
        feed_url=_calendar_feed_url(current_user.calendar_token),
        feed_reset_form=ConfirmForm(formdata=None),
        sign_out_form=ConfirmForm(formdata=None),
    )


def _calendar_feed_url(token: str | None) -> str | None:
    """The personal feed's address (served by events), or None until the person asks for
    one: a page that is only read never writes."""
    if not token:
        return None
    return absolute_url_for("events.personal_calendar", feed_token=token)


@bp.route("/profile/calendar/reset", methods=["POST"])
@login_required
def reset_calendar_feed():
    """A new address for the personal calendar feed (the first one, or one that replaces
    the old, which answers 404 from now on)."""
    if ConfirmForm().validate_on_submit():
        had_one = bool(current_user.calendar_token)
        services.reset_calendar_token(current_user)
        if had_one:
            flash(
                _("The calendar link is new. Subscribe again with it: the old one no longer works.")
            )
    return redirect(url_for("webapp.profile") + "#calendar-feed")


def _show_organisation(form: ProfileForm, user: User) -> None:
    if user.organisation:
        form.organisation_type.data = user.organisation.type
        form.organisation_name.data = user.organisation.name
        form.inn.data = user.organisation.inn


def _saved_profile_form() -> ProfileForm:
    """The profile form as saved, for a page answering another form's POST."""
    form = ProfileForm(formdata=None, obj=current_user)
    _show_organisation(form, current_user)
    return form


@bp.route("/profile/sign-out-others", methods=["POST"])
@login_required
def sign_out_other_devices():
    """Every other session and remember-me cookie of the account ends; this one stays."""
    if ConfirmForm().validate_on_submit():
        user = current_user._get_current_object()
        services.end_sessions(user)
        _sign_in_again(user)
        flash(_("You are signed out on every other device."))
    return redirect(url_for("webapp.profile", _anchor="sessions"))


@bp.route("/profile/tokens", methods=["POST"])
@login_required
def create_api_token():
    """A new token, shown on this page once (it is not kept, so it is not redirected)."""
    if not services.may_hold_api_tokens(current_user):
        abort(403)
    token_form = ApiTokenForm(prefix="token")
    if not token_form.validate_on_submit():
        return _profile_page(_saved_profile_form(), token_form)
    _row, token = services.create_api_token(current_user, token_form.name.data)
    return _profile_page(_saved_profile_form(), new_token=token)


@bp.route("/profile/tokens/revoke", methods=["POST"])
@login_required
def revoke_api_token():
    form = RevokeApiTokenForm()
    token_id = form.token_id.data or ""
    if (
        form.validate_on_submit()
        and token_id.isdigit()
        and services.revoke_api_token(current_user, int(token_id))
    ):
        flash(_("The token is revoked: it opens nothing any more."))
    return redirect(url_for("webapp.profile", _anchor="api-tokens"))


@bp.route("/profile/data.json")
@login_required
def personal_data():
    body = json.dumps(services.export_personal_data(current_user), ensure_ascii=False, indent=2)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": "attachment; filename=tropa-my-data.json"},
    )


@bp.route("/profile/delete", methods=["GET", "POST"])
@login_required
def delete_account():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        if services.authenticate(current_user.email, form.password.data):
            user = current_user._get_current_object()
            logout_user()
            services.delete_account(user)
            flash(_("Your account has been deleted."))
            return redirect(url_for("courses.index"))
        form.password.errors.append(_("The password is wrong."))
    return render_template("webapp/delete_account.html", form=form)


@bp.route("/privacy")
def privacy():
    return render_template("webapp/privacy.html")


@bp.route("/lang/<code>")
def set_language(code: str):
    if code not in LANGUAGES:
        abort(404)
    session["lang"] = code
    return redirect(safe_next(url_for("courses.index")))


# --- admin -------------------------------------------------------------------------------


@bp.route("/admin/users")
@roles_required(Role.ADMIN)
def admin_users():
    query = services.search_users(request.args.get("q", ""), request.args.get("role", ""))
    page = db.paginate(query, per_page=25, error_out=False)
    return render_template("webapp/admin_users.html", page=page, roles=list(Role))


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def admin_user(user_id: int):
    user = db.get_or_404(User, user_id)
    form = RoleForm()
    if form.validate_on_submit():
        role = Role(form.role.data)
        if form.action.data == "grant":
            services.grant_role(user, role)
            flash(_("Role granted."))
        else:
            try:
                services.revoke_role(user, role, by=current_user)
                flash(_("Role revoked."))
            except services.AccountError as error:
                flash(error.message, "warning")
        return redirect(url_for("webapp.admin_user", user_id=user.id))
    return render_template("webapp/admin_user.html", user=user, form=form, roles=list(Role))


# --- health and errors -------------------------------------------------------------------


@bp.route("/healthz")
def healthz():
    """For monitoring (webapp.health): 503 when the database or the mail worker is down."""
    report = health.check()
    return jsonify(report.as_json()), 200 if report.healthy else 503


@bp.route("/metrics")
def metrics():
    """Prometheus metrics (webapp.metrics); a bearer token when TROPA_METRICS_TOKEN is set."""
    token = current_app.config["TROPA_METRICS_TOKEN"]
    given = request.headers.get("Authorization", "")
    if token and not secrets.compare_digest(given.encode(), f"Bearer {token}".encode()):
        abort(401)
    body, content_type = metrics_module.exposition()
    return body, 200, {"Content-Type": content_type, "Cache-Control": "no-store"}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


FORM_MIMETYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@bp.before_app_request
def refuse_nul_characters():
    """A NUL character has no use in any field and PostgreSQL cannot store it in text: the
    request is refused with a message instead of failing on save."""
    fields = list(request.args.lists())
    if request.mimetype in FORM_MIMETYPES:  # a JSON body has no form to parse
        fields += request.form.lists()
    if any("\x00" in value for _name, values in fields for value in values):
        message = _("The form contains a character that cannot be saved (NUL). Remove it.")
        if _wants_json():
            return jsonify(status="error", reason="bad_character", message=message), 400
        return render_template("errors/generic.html", message=message), 400
    return None


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException):
    if _wants_json():
        return jsonify(
            status="error", reason=error.name.lower().replace(" ", "_"), message=error.description
        ), error.code
    template = (
        f"errors/{error.code}.html" if error.code in (403, 404, 429) else "errors/generic.html"
    )
    return render_template(template, error=error), error.code


@bp.app_errorhandler(CSRFError)
def csrf_error(error: CSRFError):
    message = _("The form has expired. Please reload the page and try again.")
    if _wants_json():
        return jsonify(status="error", reason="csrf", message=message), 400
    return render_template("errors/generic.html", error=error, message=message), 400


@bp.app_errorhandler(500)
def server_error(error):
    db.session.rollback()
    if _wants_json():
        return jsonify(
            status="error", reason="server_error", message=_("Something went wrong on our side.")
        ), 500
    return render_template("errors/500.html"), 500


# The admin's outbox page registers its routes on `bp` when imported.
from webapp import outbox_views  # noqa: E402, F401
