"""The certificates blueprint: `templates` (the template editor and preview), `issuing`
(an event's certificates, bulk issue and ZIP, My certificates, downloads), `verify` (the
public /verify/<code> page, the portable credential and the JWKS)."""

from flask import Blueprint

from certificates import models as _models  # noqa: F401  the tables, for Alembic and the mappers

bp = Blueprint(
    "certificates",
    __name__,
    template_folder="../templates",
    static_folder="../static",
    static_url_path="/static/certificates",
)
# The modules register their routes on `bp` when imported. Imported when the app starts:
# certificates.services.issuing (through the issuing views) registers the listeners that
# issue on course completion and on check-in; certificates.demo adds the demo certificates
# to `tropa demo-data`.
from certificates import demo  # noqa: E402,F401
from certificates.views import issuing, templates, verify  # noqa: E402,F401
