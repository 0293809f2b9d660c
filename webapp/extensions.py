"""Flask extensions, created unbound and initialised in the app factory."""

from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Kept in the session's info by webapp.transactions.unit_of_work.
UNIT_DEPTH = "tropa_unit_depth"
WROTE_OUTSIDE_UNIT = "tropa_wrote_outside_unit"


class TropaSession(Session):
    """Notes a write made outside a unit of work (a flush of changes, or an insert, update
    or delete statement), which the ORM's own bookkeeping forgets once flushed, so the next
    unit refuses to start instead of committing it (webapp.transactions)."""

    def _outside_unit(self) -> bool:
        return not self.info.get(UNIT_DEPTH)

    def flush(self, objects=None):
        if self._outside_unit() and not self._is_clean():
            self.info[WROTE_OUTSIDE_UNIT] = True
        super().flush(objects)

    def execute(self, statement, *args, **kwargs):
        if getattr(statement, "is_dml", False) and self._outside_unit():
            self.info[WROTE_OUTSIDE_UNIT] = True
        return super().execute(statement, *args, **kwargs)

    def commit(self):
        super().commit()
        self.info.pop(WROTE_OUTSIDE_UNIT, None)

    def rollback(self):
        super().rollback()
        self.info.pop(WROTE_OUTSIDE_UNIT, None)


db = SQLAlchemy(model_class=Base, session_options={"class_": TropaSession})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
bootstrap = Bootstrap5()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
