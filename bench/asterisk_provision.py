"""How long provisioning Asterisk takes: building the chroot (only with --build, into a
temporary directory — the shared cache is never touched), `up` to FullyBooted, and
`down`, on a dedicated "bench" instance with its own ports.

    .venv/bin/python bench/asterisk_provision.py [--build] [--rounds 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from figures import Figure, machine, report

from cti.asterisk import chroot
from cti.asterisk.provisioner import AsteriskRunner
from cti.settings import AsteriskMode, Settings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--build",
        action="store_true",
        help="also time a fresh chroot build (needs root + the Debian mirror; ~360 MB)",
    )
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    shared = Settings().effective_chroot_dir
    if args.build:
        with tempfile.TemporaryDirectory(dir=shared.parent) as tmp:
            target = Path(tmp) / "asterisk-22"
            started = time.monotonic()
            mmdebstrap_s = chroot.build(target, force_into=target)
            total = time.monotonic() - started
            size = sum(
                f.stat().st_size for f in target.rglob("*") if f.is_file() and not f.is_symlink()
            )
            print(
                f"chroot build: {total:.1f} s total "
                f"({mmdebstrap_s:.1f} s mmdebstrap), {size / 1e6:.0f} MB"
            )
            shutil.rmtree(target, ignore_errors=True)
    elif not chroot.is_built(shared):
        print(
            f"no chroot at {shared}; the first `up` will build it (run with --build to time that)"
        )
    with tempfile.TemporaryDirectory() as state:
        settings = Settings(
            asterisk_mode=AsteriskMode.AUTO,
            asterisk_instance_name="bench",
            ami_port=45038,
            agi_port=44573,
            asterisk_sip_port=45060,
            state_dir=Path(state) / "state",
            cache_dir=Path(state) / "cache",
            asterisk_chroot_dir=shared,
        )
        runner = AsteriskRunner(settings)
        runner.down()
        ups, downs, reloads = [], [], []
        try:
            for _ in range(args.rounds):
                started = time.monotonic()
                runner.up(timeout_s=120)
                ups.append(time.monotonic() - started)
                started = time.monotonic()
                runner.up(timeout_s=120)  # already running: re-render + core reload
                reloads.append(time.monotonic() - started)
                started = time.monotonic()
                runner.down()
                downs.append(time.monotonic() - started)
        finally:
            runner.down()
    print(f"mode: {runner.mode.value}, chroot {shared}")
    for name, values in (
        ("up -> FullyBooted + AMI listening", ups),
        ("up when running (reload)", reloads),
        ("down (core stop gracefully)", downs),
    ):
        print(
            f"{name:36s} median {statistics.median(values):.2f} s  "
            f"min {min(values):.2f}  max {max(values):.2f}  (n={len(values)})"
        )
    report(
        Figure(
            "asterisk_up_s",
            statistics.median(ups),
            "s",
            f"`hotline asterisk up` to FullyBooted with AMI listening, {runner.mode.value}, "
            f"median of {len(ups)}",
        )
    )


if __name__ == "__main__":
    main()
