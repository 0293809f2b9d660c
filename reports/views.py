"""The reports blueprint: the monitoring dashboard at /reports/ and its exports."""

from flask import Blueprint

from reports import models as _models  # noqa: F401  the tables, for Alembic and the mappers

bp = Blueprint("reports", __name__, template_folder="templates")
