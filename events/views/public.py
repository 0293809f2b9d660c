"""Events: public views."""

from events.views import bp  # noqa: F401
