"""Recording settings (``[recordings]`` in hotline.toml, ``HOTLINE_RECORDINGS__*``): where
recordings are kept, for how long, and each queue's policy.

The defaults are what a hospital's data-protection officer would sign: every agent call is
recorded and every caller is told so first; nobody may pause a recording unless a queue
says so (the billing line, where callers read out card details); recordings are kept one
year, then deleted with a trace.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from recordings.policy import QueuePolicy, RecordingPolicy


class QueueRecordingSetting(BaseModel):
    """One queue's policy: ``record`` its calls, ``announce`` "this call may be recorded"
    to the caller before the agent is connected, let the agent ``pause`` the recording."""

    model_config = ConfigDict(extra="forbid")

    record: bool = True
    announce: bool = True
    pause_allowed: bool = False

    def policy(self) -> QueuePolicy:
        return QueuePolicy(record=self.record, announce=self.announce, pausable=self.pause_allowed)


def _default_queues() -> dict[str, QueueRecordingSetting]:
    # Card payments are taken on the billing line: its agents may pause the recording.
    return {"billing": QueueRecordingSetting(pause_allowed=True)}


class RecordingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Where finished recordings are moved to (default: ``<state_dir>/recordings``).
    storage_dir: Path | None = None
    retention_days: int = Field(default=365, ge=1, le=3650)
    #: How long a complaint's voice message is kept (default: as long as recordings).
    voice_message_retention_days: int | None = Field(default=None, ge=1, le=3650)
    #: How often the running service deletes expired recordings and re-checks the rest.
    housekeeping_hours: float = Field(default=24.0, gt=0, le=24 * 7)
    #: The policy of every queue not named in ``queues``.
    default: QueueRecordingSetting = Field(default_factory=QueueRecordingSetting)
    queues: dict[str, QueueRecordingSetting] = Field(default_factory=_default_queues)

    def policy(self) -> RecordingPolicy:
        return RecordingPolicy(
            default=self.default.policy(),
            queues={name: q.policy() for name, q in self.queues.items()},
            retention=dt.timedelta(days=self.retention_days),
        )

    def voice_message_retention(self) -> dt.timedelta:
        return dt.timedelta(days=self.voice_message_retention_days or self.retention_days)

    def storage_under(self, state_dir: Path) -> Path:
        return self.storage_dir or state_dir / "recordings"
