"""The recordings' housekeeping in a running Hotline: at start and then at an interval,
delete the files whose retention has ended (with an audit trace) and re-check the rest,
so a file that went missing or was damaged is reported (status in the index, an error in
the log) rather than found by a supervisor who wanted to play it. Complaint voice
messages get the same treatment (:mod:`recordings.voice_message_retention`)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from crm_store.enums import RecordingStatus
from recordings.service import RecordingService
from recordings.voice_message_retention import VoiceMessageRetention

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HousekeepingRound:
    deleted: list[int]
    problems: dict[int, RecordingStatus]
    #: Complaints whose voice message was deleted / whose file is missing or damaged.
    voice_messages_deleted: list[int] = field(default_factory=list)
    voice_message_problems: dict[int, RecordingStatus] = field(default_factory=dict)


class Housekeeping:
    def __init__(
        self,
        service: RecordingService,
        *,
        interval_s: float,
        voice_messages: VoiceMessageRetention | None = None,
    ) -> None:
        self.service = service
        self.voice_messages = voice_messages
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
        if self.voice_messages is None:
            return HousekeepingRound(deleted, problems)
        vm_deleted = await asyncio.to_thread(self.voice_messages.sweep)
        vm_problems = await asyncio.to_thread(self.voice_messages.check)
        if vm_deleted:
            log.info("complaint voice messages past retention deleted: %s", vm_deleted)
        if vm_problems:
            log.error(
                "complaint voice messages not playable: %s",
                ", ".join(f"complaint {cid} {s.value}" for cid, s in sorted(vm_problems.items())),
            )
        return HousekeepingRound(deleted, problems, vm_deleted, vm_problems)

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:  # the store or the disk failed this round: try again later
                log.exception(
                    "recordings housekeeping failed; next round in %.0f s", self.interval_s
                )
            await asyncio.sleep(self.interval_s)
