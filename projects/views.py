"""The projects blueprint: projects, their trajectories, the board of all projects."""

from flask import Blueprint

from projects import models as _models  # noqa: F401  the tables, for Alembic and the mappers

bp = Blueprint("projects", __name__, template_folder="templates")
