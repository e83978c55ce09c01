"""Many small writes from live calls as few transactions.

Hundreds of calls each storing a row now and then cost the store a transaction apiece
(begin, statements, commit, a hop to the writer thread and back): at 500 concurrent IVR
calls that was half of Hotline's CPU. A :class:`WriteBatcher` collects what is enqueued
within ``max_delay_s`` and stores it in one transaction. A batch that fails is stored item
by item: an item the store refuses (a constraint) is dropped with its error, one that failed
because the store was busy or away is kept and tried again — an outage delays rows, it does
not lose them, and one bad row does not hold back every call's.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from crm_store.errors import StoreBusy
from crm_store.gateway import StoreGateway

log = logging.getLogger(__name__)

T = TypeVar("T")

#: How long a failed batch waits before it is tried again.
RETRY_AFTER_S = 1.0


@dataclass(eq=False)
class _Pending(Generic[T]):
    item: T
    stored: asyncio.Future[None]


class WriteBatcher(Generic[T]):
    """Stores enqueued items with ``write(session, items)``, a batch per transaction, in
    the order they were enqueued. With ``key``, an item replaces a pending one with the
    same key (the newest snapshot of something wins)."""

    def __init__(
        self,
        store: StoreGateway,
        write: Callable[[Session, Sequence[T]], None],  # (session, batch)
        *,
        name: str,
        max_delay_s: float = 0.05,
        key: Callable[[T], Hashable] | None = None,
    ) -> None:
        self.store = store
        self.name = name
        self.max_delay_s = max_delay_s
        self.written = 0
        self._write = write
        self._key = key
        self._numbers = itertools.count()
        self._pending: dict[Hashable, _Pending[T]] = {}
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    def enqueue(self, item: T) -> asyncio.Future[None]:
        """Queue ``item``; the future is done once it is stored, or fails with the error
        of the first attempt that could not store it (it stays queued and is retried)."""
        key = next(self._numbers) if self._key is None else self._key(item)
        stored: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        replaced = self._pending.pop(key, None)
        if replaced is not None:
            # The newer item stands for the older one: done when it is.
            stored.add_done_callback(lambda done: _settle_like(replaced.stored, done))
        self._pending[key] = _Pending(item, stored)
        self._idle.clear()
        self._wakeup.set()
        return stored

    async def flush(self) -> None:
        """Wait until everything enqueued so far is in the store."""
        while self._pending or not self._idle.is_set():
            self._wakeup.set()
            await self._idle.wait()

    async def close(self) -> None:
        await self.flush()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def _store(self, items: Sequence[T], session: Session) -> None:
        self._write(session, items)

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            await asyncio.sleep(self.max_delay_s)  # let a burst coalesce
            batch, self._pending = self._pending, {}
            if batch and not await self._store_batch(batch):
                await asyncio.sleep(RETRY_AFTER_S)
                self._wakeup.set()
                continue
            if not self._pending:
                self._idle.set()

    async def _attempt(self, batch: dict[Hashable, _Pending[T]]) -> Exception | None:
        items = [pending.item for pending in batch.values()]
        try:
            await self.store.write(functools.partial(self._store, items))
        except Exception as exc:
            return exc
        self.written += len(items)
        for pending in batch.values():
            if not pending.stored.done():
                pending.stored.set_result(None)
        return None

    async def _store_batch(self, batch: dict[Hashable, _Pending[T]]) -> bool:
        """Store a batch; False when some of it must be tried again (it is queued again,
        in front of what came since). A batch that fails is stored item by item, so
        that one bad item (a row the store refuses) cannot hold back everyone else's:
        an item refused on its own is dropped with its error; one failing for a reason
        that may pass (the store busy or unreachable) is kept."""
        error = await self._attempt(batch)
        if error is None:
            return True
        log.error("%s: could not store %d items together: %s", self.name, len(batch), error)
        kept: dict[Hashable, _Pending[T]] = {}
        single = len(batch) == 1
        for key, pending in batch.items():
            if kept:  # the store is away: keep the rest, in order
                kept[key] = pending
                continue
            if not single:
                error = await self._attempt({key: pending})
                if error is None:
                    continue
            assert error is not None
            if not pending.stored.done():
                pending.stored.set_exception(error)
                pending.stored.exception()  # retrieved: the outcome is logged here
            if _transient(error):
                kept[key] = pending
            else:
                log.error("%s: dropped an item the store refuses: %s", self.name, error)
        if not kept:
            return True
        # Back in front of what came since, unless something newer replaced it.
        kept = {k: p for k, p in kept.items() if k not in self._pending}
        self._pending = {**kept, **self._pending}
        log.warning("%s: %d items kept for the next attempt", self.name, len(kept))
        return False


def _transient(error: Exception) -> bool:
    """Whether trying the same write again later may succeed: the store was busy or the
    connection failed, not the data."""
    return isinstance(error, (OperationalError, InterfaceError, DisconnectionError, StoreBusy))


def _settle_like(target: asyncio.Future[None], source: asyncio.Future[None]) -> None:
    if target.done():
        return
    if source.cancelled():
        target.cancel()
    elif source.exception() is not None:
        target.set_exception(source.exception())  # type: ignore[arg-type]
        target.exception()
    else:
        target.set_result(None)
