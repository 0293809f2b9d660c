"""The certificates blueprint: `templates` (the template editor and preview), `issuing`
(an event's certificates, bulk issue and ZIP, My certificates, downloads), `verify` (the
public /verify/<code> page, the portable credential and the JWKS)."""

from flask import Blueprint

from certificates import models as _models  # noqa: F401  the tables, for Alembic and the mappers

bp = Blueprint("certificates", __name__, template_folder="../templates")
