"""Keeps the wallboard's view current and hands it to the browser sockets watching it.

Wakes on the bus: ``acd.*`` (a caller queued, offered, answered, gone; an agent's state)
re-takes the ACD's snapshot; ``acd_journal.written`` (a call row was written) re-reads
that call's row. Today's rows are read in full at start and at midnight only. Bursts are
coalesced (one refresh handles every event that came before it), and watchers are told
only when the view changed. Nothing here knows HTTP: the socket route sends what a
watcher receives.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from acd.journal import WRITTEN_TOPIC
from acd.service import AcdService
from crm_store.gateway import StoreGateway
from crm_store.repositories.acd import AcdCallRecord, AcdRepository
from cti.bus import EventBus, Subscription
from screenpop.wallboard import (
    DEFAULT_SERVICE_LEVEL_GOAL,
    WallboardView,
    build_view,
    day_start,
    next_day_start,
)

log = logging.getLogger(__name__)

TOPICS = ("acd.*", WRITTEN_TOPIC)

AcdLookup = Callable[[], AcdService | None]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class WallboardWatcher:
    """One socket's feed: only the newest view matters, so an unread one is replaced."""

    def __init__(self) -> None:
        self._latest: WallboardView | None = None
        self._stopped = False
        self._ready = asyncio.Event()

    def push(self, view: WallboardView | None) -> None:
        if view is None:
            self._stopped = True
        else:
            self._latest = view
        self._ready.set()

    async def next(self) -> WallboardView | None:
        """The next view, or None when the feed stopped."""
        await self._ready.wait()
        self._ready.clear()
        if self._stopped:
            return None
        view, self._latest = self._latest, None
        return view


class WallboardFeed:
    def __init__(
        self,
        *,
        store: StoreGateway,
        bus: EventBus,
        acd: AcdLookup,
        zone: dt.tzinfo,
        goal: float = DEFAULT_SERVICE_LEVEL_GOAL,
        clock: Callable[[], dt.datetime] = _utc_now,
    ) -> None:
        self.store = store
        self.bus = bus
        self.acd = acd
        self.zone = zone
        self.goal = goal
        self.clock = clock
        self._view: WallboardView | None = None
        self._records: dict[str, AcdCallRecord] = {}
        self._records_since: dt.datetime | None = None  # None: read them all again
        self._changed_calls: set[str] = set()
        self._refreshing = asyncio.Lock()  # the page's refresh and the feed's, one at a time
        self._wake = asyncio.Event()
        self._watchers: set[WallboardWatcher] = set()
        self._subscription: Subscription | None = None
        self._task: asyncio.Task[None] | None = None
        #: Refreshes done, and views pushed to watchers, since start (for tests and benches).
        self.refreshes = 0
        self.pushes = 0

    async def start(self) -> None:
        await self.refresh()
        self._subscription = self.bus.subscribe("screenpop-wallboard", TOPICS, self._on_event)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="wallboard-feed")

    async def stop(self) -> None:
        if self._subscription is not None:
            await self.bus.unsubscribe(self._subscription, drain=False)
            self._subscription = None
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        for watcher in list(self._watchers):
            watcher.push(None)
        self._watchers.clear()

    def view(self) -> WallboardView:
        """The current view (what a new page renders)."""
        if self._view is None:
            raise RuntimeError("the wallboard feed is not started")
        return self._view

    def watch(self) -> tuple[WallboardWatcher, WallboardView]:
        watcher = WallboardWatcher()
        self._watchers.add(watcher)
        return watcher, self.view()

    def unwatch(self, watcher: WallboardWatcher) -> None:
        self._watchers.discard(watcher)

    @property
    def watchers(self) -> int:
        return len(self._watchers)

    async def refresh(self) -> bool:
        """Recompute the view; tell the watchers if it changed (returned)."""
        async with self._refreshing:
            return await self._refresh()

    async def _refresh(self) -> bool:
        now = self.clock()
        since = day_start(now, self.zone)
        if self._records_since != since:
            self._records_since = None
            self._changed_calls.clear()
            rows = await self.store.read(lambda s: AcdRepository(s).calls_touching(since))
            self._records = {r.call_key: r for r in rows}
            self._records_since = since
        elif self._changed_calls:
            keys, self._changed_calls = self._changed_calls, set()
            try:
                rows = await self.store.read(lambda s: AcdRepository(s).calls(keys))
            except BaseException:
                self._changed_calls |= keys
                raise
            self._records.update((r.call_key, r) for r in rows)
        service = self.acd()
        snapshot = None if service is None else service.snapshot()
        records = self._records.values()
        view = build_view(snapshot, records, zone=self.zone, now=now, goal=self.goal)
        self.refreshes += 1
        if view == self._view:
            return False
        self._view = view
        self.pushes += 1
        for watcher in self._watchers:
            watcher.push(view)
        return True

    def _on_event(self, topic: str, payload: Any) -> None:
        call_id = getattr(payload, "call_id", None)
        if topic == WRITTEN_TOPIC and isinstance(call_id, str):
            self._changed_calls.add(call_id)  # re-read that row only
        self._wake.set()

    async def _run(self) -> None:
        while True:
            now = self.clock()
            until_midnight = (next_day_start(now, self.zone) - now).total_seconds()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=max(1.0, until_midnight))
            except TimeoutError:
                pass  # a new day: today's figures start again
            self._wake.clear()
            try:
                await self.refresh()
            except Exception:
                # The board keeps its last view; the next event tries again.
                log.exception("the wallboard could not be refreshed")
