"""The recordings' housekeeping in a running Hotline: at start and then at an interval,
delete the files whose retention has ended (with an audit trace) and re-check the rest,
so a file that went missing or was damaged is reported (status in the index, an error in
the log) rather than found by a supervisor who wanted to play it."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from crm_store.enums import RecordingStatus
from recordings.service import RecordingService

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HousekeepingRound:
    deleted: list[int]
    problems: dict[int, RecordingStatus]


class Housekeeping:
    def __init__(self, service: RecordingService, *, interval_s: float) -> None:
        self.service = service
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="recordings-housekeeping")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def run_once(self) -> HousekeepingRound:
        """One round: retention first (no point checking a file about to go), then checks."""
        deleted = await asyncio.to_thread(self.service.sweep_retention)
        problems = await asyncio.to_thread(self.service.verify_all)
        if deleted:
            log.info("recordings past retention deleted: %s", deleted)
        if problems:
            log.error(
                "recordings not as indexed: %s",
                ", ".join(f"{rid} {status.value}" for rid, status in sorted(problems.items())),
            )
        return HousekeepingRound(deleted, problems)

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:  # the store or the disk failed this round: try again later
                log.exception(
                    "recordings housekeeping failed; next round in %.0f s", self.interval_s
                )
            await asyncio.sleep(self.interval_s)
