"""Recording errors.

RecordingError
├── InvalidRecordingRequest   a channel, uniqueid or queue that may not reach AMI
├── PauseNotAllowed           the queue's policy does not allow pausing
├── NotRecording              no recording of that channel is running here
└── RecordingFileError        the file Asterisk wrote is missing or damaged
    ├── RecordingFileMissing
    └── RecordingFileDamaged
"""

from __future__ import annotations


class RecordingError(Exception):
    """Base of every recordings error."""


class InvalidRecordingRequest(RecordingError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field


class PauseNotAllowed(RecordingError):
    def __init__(self, queue: str | None) -> None:
        super().__init__(f"recordings of queue {queue!r} may not be paused")
        self.queue = queue


class NotRecording(RecordingError):
    def __init__(self, uniqueid: str) -> None:
        super().__init__(f"no recording of channel {uniqueid} is running")
        self.uniqueid = uniqueid


class RecordingNotStarted(RecordingError):
    def __init__(self, channel: str, found: str) -> None:
        super().__init__(f"{channel} is not being recorded (HOTLINE_RECORDING={found!r})")
        self.channel = channel


class RecordingFileError(RecordingError):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class RecordingFileMissing(RecordingFileError):
    pass


class RecordingFileDamaged(RecordingFileError):
    pass
