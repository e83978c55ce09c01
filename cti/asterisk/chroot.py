"""The Debian-unstable chroot that holds Asterisk 22 on machines without an Asterisk
package (DESIGN.md, "Facts about the machines here"). Built once into a temporary
directory and renamed into place, so a half-built chroot is never mistaken for a
finished one; later runs reuse it."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from cti.asterisk.errors import ChrootBuildError

log = logging.getLogger(__name__)

SUITE = "sid"
MIRROR = "http://deb.debian.org/debian"
PACKAGES = ("asterisk", "asterisk-modules", "asterisk-core-sounds-en-wav")
ASTERISK_IN_CHROOT = "/usr/sbin/asterisk"
# Directories Asterisk expects even though each instance has its own (DESIGN.md).
_EXPECTED_DIRS = (
    "var/lib/asterisk",
    "var/run/asterisk",
    "var/spool/asterisk/monitor",
    "var/log/asterisk",
    "srv/hotline",
)


def mmdebstrap_command(target: Path) -> list[str]:
    """The exact command from DESIGN.md."""
    return [
        "mmdebstrap",
        "--variant=apt",
        '--aptopt=Acquire::Check-Valid-Until "false"',
        f"--include={','.join(PACKAGES)}",
        SUITE,
        str(target),
        MIRROR,
    ]


def is_built(root: Path) -> bool:
    return (root / ASTERISK_IN_CHROOT.lstrip("/")).is_file()


@contextlib.contextmanager
def _lock(root: Path) -> Iterator[None]:
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f".{root.name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _ensure_mmdebstrap() -> str:
    found = shutil.which("mmdebstrap")
    if found:
        return found
    if os.geteuid() != 0:
        raise ChrootBuildError(
            "mmdebstrap is missing; install it as root: apt-get install -y mmdebstrap"
        )
    log.info("installing mmdebstrap with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "install", "-y", "mmdebstrap"],):
        result = subprocess.run(argv, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            # The package lists may be missing on a fresh machine.
            subprocess.run(["apt-get", "update"], env=env, capture_output=True, text=True)
            result = subprocess.run(argv, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise ChrootBuildError(f"apt-get install mmdebstrap failed:\n{result.stderr[-2000:]}")
    found = shutil.which("mmdebstrap")
    if not found:
        raise ChrootBuildError("mmdebstrap is still missing after apt-get install")
    return found


def prepare(root: Path) -> None:
    for sub in _EXPECTED_DIRS:
        (root / sub).mkdir(parents=True, exist_ok=True)


def build(root: Path, *, force_into: Path | None = None) -> float:
    """Build the chroot at ``root`` (or, for benchmarks, at ``force_into`` regardless of
    ``root`` existing). Returns the seconds mmdebstrap took."""
    target = force_into or root
    if os.geteuid() != 0:
        raise ChrootBuildError(
            f"building the Asterisk chroot at {target} needs root (mmdebstrap, chroot)"
        )
    _ensure_mmdebstrap()
    tmp = target.parent / f".{target.name}.build-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    log.info("building the Asterisk 22 chroot in %s (about 20 s, 360 MB)", tmp)
    started = time.monotonic()
    result = subprocess.run(
        mmdebstrap_command(tmp), capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    elapsed = time.monotonic() - started
    if result.returncode != 0 or not is_built(tmp):
        shutil.rmtree(tmp, ignore_errors=True)
        output = (result.stderr or result.stdout)[-3000:]
        raise ChrootBuildError(f"mmdebstrap failed (exit {result.returncode}):\n{output}")
    prepare(tmp)
    os.rename(tmp, target)  # atomic: the chroot appears complete or not at all
    return elapsed


def ensure(root: Path) -> bool:
    """Make sure a finished chroot is at ``root``. Returns True when it had to be built."""
    if is_built(root):
        prepare(root)
        return False
    with _lock(root):
        if is_built(root):  # built by a concurrent run while we waited
            prepare(root)
            return False
        if root.exists():
            if any(root.iterdir()):
                raise ChrootBuildError(
                    f"{root} exists but holds no Asterisk; move it away so it can be rebuilt"
                )
            root.rmdir()
        build(root)
        return True
