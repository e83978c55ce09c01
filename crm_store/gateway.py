"""The asyncio side's door to the (synchronous) store.

Repositories are plain synchronous SQLAlchemy code. The asyncio service runs them on
threads: reads on a small pool, writes on one thread so that SQLite never sees two
writers from Hotline at once and writes keep their order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy.orm import Session

from crm_store.database import Database

T = TypeVar("T")


class StoreGateway:
    """Runs repository work off the event loop, one session (transaction) per call."""

    def __init__(self, database: Database, *, readers: int = 4) -> None:
        self.database = database
        self._readers = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="store-read")
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-write")

    async def read(self, work: Callable[[Session], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._readers, self._run, work)

    async def lookup(self, work: Callable[[Session], T]) -> T:
        """A read of ONE statement (caller-ID lookup, screen-pop history) on the reader
        pool, in :meth:`Database.read_session`: one round trip on PostgreSQL."""
        return await asyncio.get_running_loop().run_in_executor(
            self._readers, self._run_lookup, work
        )

    async def write(self, work: Callable[[Session], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._writer, self._run, work)

    def _run(self, work: Callable[[Session], T]) -> T:
        with self.database.session() as session:
            return work(session)

    def _run_lookup(self, work: Callable[[Session], T]) -> T:
        with self.database.read_session() as session:
            return work(session)

    def close(self) -> None:
        self._readers.shutdown(wait=True)
        self._writer.shutdown(wait=True)
