"""Asterisk for development, the tests and the demo: provisioning (a cached
Debian-unstable chroot or an installed binary), per-instance configuration rendered
from ``asterisk-conf/`` and ``dialplans/``, start/stop/status/CLI, and the
configuration check behind ``hotline asterisk check``."""

from cti.asterisk.errors import (
    AsteriskCommandError,
    AsteriskError,
    AsteriskModeError,
    AsteriskNotRunningError,
    AsteriskStartError,
    ChrootBuildError,
    InstanceConfigError,
    PortInUseError,
)
from cti.asterisk.provisioner import AsteriskRunner, AsteriskStatus, InstanceLayout

__all__ = [
    "AsteriskCommandError",
    "AsteriskError",
    "AsteriskModeError",
    "AsteriskNotRunningError",
    "AsteriskRunner",
    "AsteriskStartError",
    "AsteriskStatus",
    "ChrootBuildError",
    "InstanceConfigError",
    "InstanceLayout",
    "PortInUseError",
]
