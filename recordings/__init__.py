"""Call recordings: MixMonitor control, index, storage, verification and retention."""

from recordings.errors import (
    InvalidRecordingRequest,
    NotRecording,
    PauseNotAllowed,
    RecordingError,
    RecordingFileDamaged,
    RecordingFileError,
    RecordingFileMissing,
    RecordingNotStarted,
)
from recordings.policy import QueuePolicy, RecordingPolicy, WavInfo, wav_info
from recordings.service import (
    ActiveRecording,
    MonitorDir,
    RecordingService,
    StoredRecording,
    sha256_of,
)

__all__ = [
    "ActiveRecording",
    "InvalidRecordingRequest",
    "MonitorDir",
    "NotRecording",
    "PauseNotAllowed",
    "QueuePolicy",
    "RecordingError",
    "RecordingFileDamaged",
    "RecordingFileError",
    "RecordingFileMissing",
    "RecordingNotStarted",
    "RecordingPolicy",
    "RecordingService",
    "StoredRecording",
    "WavInfo",
    "sha256_of",
    "wav_info",
]
