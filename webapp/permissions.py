"""One permission helper for every view: decorators that answer 302 (sign in) or 403."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from webapp.models import Role


def roles_required(*roles: Role):
    """Signed in and holding one of the roles (admin passes every check)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def has_role(*roles: Role) -> bool:
    return current_user.is_authenticated and current_user.has_role(*roles)
