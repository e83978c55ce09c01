"""Errors of Asterisk provisioning and checking.

::

    AsteriskError                       anything this package raises on purpose
    ├── ChrootBuildError                the Debian-unstable chroot could not be built
    ├── AsteriskModeError               the requested mode cannot work here (external,
    │                                   native without a binary, ...)
    ├── AsteriskStartError              Asterisk did not reach FullyBooted; carries the
    │   └── PortInUseError              tail of its log / a port it needs is taken
    ├── AsteriskNotRunningError         a command needs a running instance
    ├── AsteriskCommandError            ``asterisk -rx`` failed
    └── InstanceConfigError             settings cannot be rendered into a safe config
"""

from __future__ import annotations


class AsteriskError(Exception):
    """Base of every error raised by :mod:`cti.asterisk`."""


class ChrootBuildError(AsteriskError):
    pass


class AsteriskModeError(AsteriskError):
    pass


class AsteriskStartError(AsteriskError):
    def __init__(self, message: str, log_tail: str = "") -> None:
        self.log_tail = log_tail
        if log_tail:
            message = f"{message}\n--- last lines of the Asterisk log ---\n{log_tail}"
        super().__init__(message)


class PortInUseError(AsteriskStartError):
    pass


class AsteriskNotRunningError(AsteriskError):
    pass


class AsteriskCommandError(AsteriskError):
    pass


class InstanceConfigError(AsteriskError):
    pass
