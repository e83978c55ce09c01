"""Small typed helpers around ``Session.execute`` shared by the repositories."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import UpdateBase


def rows_changed(session: Session, statement: UpdateBase) -> int:
    """Run an UPDATE/DELETE and return how many rows it changed.

    ``Session.execute`` is annotated as returning ``Result``, but for DML statements it
    returns a ``CursorResult``, which is the type that carries ``rowcount``.
    """
    return cast("CursorResult[Any]", session.execute(statement)).rowcount
