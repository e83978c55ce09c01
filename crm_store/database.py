"""The store's engine, sessions and migrations.

One :class:`Database` per process, built by the composition root from
``settings.effective_database_url``. SQLite (the embedded default) gets WAL, enforced
foreign keys and a busy timeout; PostgreSQL (``postgresql+psycopg://``) gets a pooled
connection check that costs no round trip (see :func:`_connection_looks_alive`).
"""

from __future__ import annotations

import logging
import select
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from crm_store.errors import MigrationError, StoreBusy

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

#: PostgreSQL connections kept idle for one-statement reads (StoreGateway's readers: 4).
READ_POOL_SIZE = 4

#: How long an SQLite writer waits for another writer before giving up.
SQLITE_BUSY_TIMEOUT_MS = 10_000


def normalise_url(url: str | URL) -> URL:
    """The URL with the driver the store is tested with (psycopg 3 for PostgreSQL)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def create_store_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine configured the way the store needs it on either backend."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, **kwargs)
        _configure_sqlite(engine)
        return engine
    engine = create_engine(parsed, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _configure_postgresql(engine)
    return engine


def _configure_postgresql(engine: Engine) -> None:
    # Not pool_pre_ping: its ";" per checkout was one of four round trips of a caller-ID
    # lookup (ping, BEGIN, SELECT, COMMIT). A connection the server has dropped (restart,
    # pg_terminate_backend, idle timeout) has already told us so on its socket.
    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if not _connection_looks_alive(dbapi_connection):
            # The pool discards this connection and checks out (or opens) another.
            raise DisconnectionError("the server closed this pooled connection")


def _connection_looks_alive(dbapi_connection: Any) -> bool:
    """Whether an idle pooled psycopg connection is usable, without a round trip.

    An idle connection has nothing to read: the server only speaks when asked. Bytes
    waiting on its socket are almost always the server's goodbye (a FATAL error, then
    end of file); a rare asynchronous notice costs no more than a fresh connection."""
    from psycopg import pq

    pgconn = dbapi_connection.pgconn
    if dbapi_connection.closed or pgconn.status != pq.ConnStatus.OK:
        return False
    if pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return False
    poller = select.poll()
    poller.register(pgconn.socket, select.POLLIN | select.POLLERR | select.POLLHUP)
    return not poller.poll(0)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, emit BEGIN: the module's implicit
        # transactions break SAVEPOINT and run SELECTs outside the transaction.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable with WAL; fsync per checkpoint
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """Engine + session factory + migrations for one database URL."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = normalise_url(url)
        self.engine = create_store_engine(self.url, **engine_kwargs)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # PostgreSQL: one-statement reads get their own small pool of autocommit
        # connections, so neither a BEGIN/COMMIT nor an isolation switch per checkout.
        # (No connection is opened until the first read.)
        self._read_engine: Engine | None = None
        if self.url.get_backend_name() == "postgresql":
            read_kwargs = {"pool_size": READ_POOL_SIZE, **engine_kwargs}
            read_kwargs["isolation_level"] = "AUTOCOMMIT"
            self._read_engine = create_store_engine(self.url, **read_kwargs)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def migrate(self) -> None:
        """Bring the schema to the newest revision shipped in crm_store/migrations
        (``alembic upgrade head``). Safe to call on every start."""
        from alembic import command

        try:
            with self.engine.begin() as connection:
                config = alembic_config(connection=connection)
                command.upgrade(config, "head")
        except Exception as exc:
            raise MigrationError(
                f"could not migrate the {self.dialect} database to the current schema: {exc}"
            ) from exc

    def current_revision(self) -> str | None:
        """The Alembic revision the database is at (None: never migrated)."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    @contextmanager
    def session(self, *, immediate: bool = False) -> Iterator[Session]:
        """A session in a transaction: committed when the block ends, rolled back if it
        raises. ``immediate=True`` takes SQLite's write lock at BEGIN, for transactions
        that read before they write (ignored on PostgreSQL)."""
        session = self._sessions()
        if immediate and self.dialect == "sqlite":
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        try:
            yield session
            session.commit()
        except OperationalError as exc:
            session.rollback()
            if self.dialect == "sqlite" and "database is locked" in str(exc):
                raise StoreBusy() from exc
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for a read that is ONE statement (the caller-ID lookup, the screen
        pop): on PostgreSQL it runs in autocommit on a pool of its own, so the lookup is
        one round trip instead of BEGIN, SELECT, COMMIT. A lone SELECT is atomic and has
        its own snapshot either way (READ COMMITTED gives each statement one), so nothing
        changes but the round trips. Never write in it. On SQLite (no round trips) it is
        :meth:`session`."""
        if self._read_engine is None:
            with self.session() as session:
                yield session
            return
        with self._read_engine.connect() as connection:
            session = Session(bind=connection, expire_on_commit=False)
            try:
                yield session
            finally:
                session.close()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        if self._read_engine is not None:
            self._read_engine.dispose()


def head_revision() -> str:
    """The newest revision shipped in crm_store/migrations (they form a single chain)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise MigrationError("crm_store/migrations holds no revision")
    return str(head)


def alembic_config(*, url: str | URL | None = None, connection: Any = None) -> Any:
    """An Alembic Config for the shipped migrations, bound to a URL or an open
    connection (``config.attributes['connection']``)."""
    from alembic.config import Config

    config = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        rendered = normalise_url(url).render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config
