"""The wallboard feed on the store (SQLite and PostgreSQL) and the real bus: it counts the
rows the ACD's journal writes as they are written, and starts the figures again at the
hospital's midnight. (The ACD's path through Asterisk is in test_wallboard_browser.py.)"""

from __future__ import annotations

import asyncio
import datetime as dt
import zoneinfo
from collections.abc import Callable

from acd.journal import AcdJournal
from acd.model import Agent, PriorityClass, Queue
from acd.service import AcdService, CallAbandoned, CallQueued
from crm_store.database import Database
from crm_store.gateway import StoreGateway
from crm_store.repositories.acd import AcdRepository
from cti.bus import EventBus
from screenpop.wallboard import WallboardView
from screenpop.wallboard_feed import WallboardFeed

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOON = dt.datetime(2030, 1, 7, 12, 0, tzinfo=SHANGHAI)
GENERAL = Queue("general", skill="general", language="zh")


class Clock:
    def __init__(self) -> None:
        self.now = NOON.astimezone(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


async def until(feed: WallboardFeed, check: Callable[[WallboardView], bool]) -> WallboardView:
    async with asyncio.timeout(10):
        while not check(feed.view()):
            await asyncio.sleep(0.01)
    return feed.view()


async def test_feed_counts_journal_rows_as_written_and_starts_again_at_midnight(
    database: Database,
) -> None:
    yesterday = NOON - dt.timedelta(days=1)
    with database.session() as session:
        repo = AcdRepository(session)
        repo.call_queued("y.1", queue="general", priority="normal", patient_id=None, at=yesterday)
        repo.call_answered("y.1", "li", yesterday + dt.timedelta(seconds=5))
        morning = NOON - dt.timedelta(hours=3)
        repo.call_queued("t.1", queue="general", priority="normal", patient_id=None, at=morning)
        repo.call_answered("t.1", "li", morning + dt.timedelta(seconds=5))
    store = StoreGateway(database)
    bus = EventBus()
    clock = Clock()
    service = AcdService.build(
        bus=bus,
        ami=None,  # type: ignore[arg-type]  # nothing here rings a phone
        queues=[GENERAL],
        agents=[Agent("li", skills={"general": 2}, languages={"zh": 5})],
        phones={"li": "Local/1005@agent-sim"},
        clock=clock,
    )
    journal = AcdJournal(bus, store)
    journal.start()
    feed = WallboardFeed(store=store, bus=bus, acd=lambda: service, zone=SHANGHAI, clock=clock)
    await feed.start()
    try:
        view = feed.view()
        general = view.queue("general")
        assert (general.answered_today, general.abandoned_today) == (1, 0)
        assert view.agent("li").handled_today == 1

        # What the ACD publishes for a caller who gave up; the journal writes the row.
        at = clock.now
        bus.publish("acd.queued", CallQueued("t.2", "general", PriorityClass.NORMAL, None, at))
        bus.publish("acd.abandoned", CallAbandoned("t.2", "general", 40.0, at))
        view = await until(feed, lambda v: v.queue("general").abandoned_today == 1)
        assert view.queue("general").service_level == 0.5
        with database.session() as session:
            row = AcdRepository(session).calls(["t.2"])[0]
        assert row.abandoned

        # Past midnight in Shanghai, the day's figures are zero again.
        clock.now = (NOON + dt.timedelta(hours=12, minutes=1)).astimezone(dt.UTC)
        service.login("li")  # any event wakes the feed
        view = await until(feed, lambda v: v.agent("li").state.value == "available")
        general = view.queue("general")
        assert (general.answered_today, general.abandoned_today) == (0, 0)
        assert view.agent("li").handled_today == 0
        assert view.day == dt.date(2030, 1, 8)
    finally:
        await feed.stop()
        await journal.close()
        await bus.close()
        store.close()
