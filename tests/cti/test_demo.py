"""The README's first command: `hotline demo` runs the whole product and says what happened
(and can record the AMI stream of its calls for the ingest benchmark).

Runs the real command in its own process, with its own Asterisk instance (beside the
suite's) and its own SQLite store, exactly as `./dev demo --exit` does after set-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cti.ami_recorder import load_capture
from cti.settings import Settings
from tests.fixtures.asterisk import TEST_INSTANCE, TEST_PORTS

pytestmark = pytest.mark.asterisk

#: The demo's own ports: the suite's shifted by 50, so both Asterisks run side by side.
DEMO_PORT_SHIFT = 50


def test_the_demo_places_its_calls_and_reports_each_one(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "HOTLINE_STATE_DIR": str(tmp_path / "state"),
        "HOTLINE_CACHE_DIR": str(tmp_path / "cache"),
        "HOTLINE_ASTERISK_CHROOT_DIR": str(Settings().effective_chroot_dir),
        "HOTLINE_ASTERISK_INSTANCE_NAME": f"demo-{TEST_INSTANCE}",
        **{
            f"HOTLINE_{name.upper()}": str(port + DEMO_PORT_SHIFT)
            for name, port in TEST_PORTS.items()
        },
        "COLUMNS": "200",  # the results table, unwrapped
    }
    done = subprocess.run(
        [
            *(str(Path(sys.executable).with_name("hotline")), "demo", "--exit"),
            *("--patients", "60", "--capture-ami", str(tmp_path / "ami.txt.gz")),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "store: seeded 60 patients" in output
    assert "web console: http://127.0.0.1:" in output
    table = output[output.index("What happened") :]
    for label in ("known patient", "family member's phone", "unknown number", "withheld number"):
        assert label in table, table
    assert "not finished" not in table, table
    assert "Normal Clearing" in table
    # the AMI stream of those calls, as Hotline's user saw it, without the login
    capture = load_capture(tmp_path / "ami.txt.gz").decode()
    assert capture.count("Event: Newchannel\r\n") >= 6
    assert capture.count("Event: Hangup\r\n") >= 6
    assert "UserEvent: HotlineCall" in capture
    assert "Secret" not in capture and "recorder-login" not in capture
    assert capture.endswith("\r\n\r\n")
    # --exit leaves no Asterisk of its own behind
    running = subprocess.run(
        ["pgrep", "-f", f"/srv/hotline/demo-{TEST_INSTANCE}/"], capture_output=True, check=False
    )
    assert running.returncode == 1, running.stdout
