"""Every query of a period's report finds the period's rows through an index, on SQLite
and PostgreSQL: the plans of the statements ``ReportRepository.load`` runs scan no whole
table (a month's report must not read years of IVR sessions or complaints)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import event

from crm_store.database import Database
from crm_store.repositories.reports import ReportRepository
from tests.store.report_records import DEFAULT_TARGET_S, QUEUE_TARGETS, seed_report_day

DAY = dt.datetime(2030, 1, 7, tzinfo=dt.UTC)


def _statements(database: Database) -> list[tuple[str, Any]]:
    """The statements (with their parameters) a day's report runs."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        with database.session() as session:
            ReportRepository(session).load(
                start=DAY,
                end=DAY + dt.timedelta(days=1),
                target_s=DEFAULT_TARGET_S,
                queue_targets=QUEUE_TARGETS,
            )
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    return seen


def _full_scans(database: Database, statement: str, parameters: Any) -> list[str]:
    """Tables the engine's plan reads whole for ``statement``."""
    with database.engine.connect() as conn:
        if database.dialect == "postgresql":
            # The test tables are tiny, so the planner would rightly scan them anyway: ask
            # whether an index *can* answer (a sequential scan is then the only way left).
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = conn.exec_driver_sql(f"EXPLAIN {statement}", parameters).scalars().all()
            return [m for line in plan for m in re.findall(r"Seq Scan on (\w+)", line)]
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
        return [
            m.group(1)
            for row in rows
            if (m := re.match(r"SCAN (\w+)(?!.*USING (?:COVERING )?INDEX)", row[-1]))
        ]


def test_a_reports_queries_read_the_period_through_indexes(database: Database) -> None:
    seed_report_day(database, DAY)
    statements = _statements(database)
    assert len(statements) >= 7  # queues/agents, hours, calls, IVR x2, complaints x2, refills
    scans = {
        statement.split("FROM", 1)[1][:60]: tables
        for statement, parameters in statements
        if (tables := _full_scans(database, statement, parameters))
    }
    assert scans == {}
