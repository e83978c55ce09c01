"""The shipped Alembic migrations build exactly the models' schema on both engines."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from crm_store.database import MIGRATIONS_DIR, Database, head_revision
from crm_store.models import Base

REPO = Path(__file__).resolve().parents[2]
HEAD = head_revision()


def _diff(database: Database) -> list[object]:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_upgrade_head_matches_the_models(empty_database_url: str) -> None:
    database = Database(empty_database_url)
    try:
        assert database.current_revision() is None
        database.migrate()
        assert database.current_revision() == HEAD
        assert _diff(database) == []
        database.migrate()  # idempotent: the service migrates on every start
    finally:
        database.dispose()


def test_alembic_command_line_uses_the_url_given(empty_database_url: str) -> None:
    env = {**os.environ, "HOTLINE_DATABASE_URL": empty_database_url}
    alembic = Path(sys.executable).with_name("alembic")
    result = subprocess.run(
        [str(alembic), "-c", str(MIGRATIONS_DIR / "alembic.ini"), "upgrade", "head"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    database = Database(empty_database_url)
    try:
        assert database.current_revision() == HEAD
        assert _diff(database) == []
    finally:
        database.dispose()
