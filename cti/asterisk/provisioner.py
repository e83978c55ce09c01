"""Run a project-provisioned Asterisk 22 for development, the tests and the demo.

One :class:`AsteriskRunner` manages one *instance* (``settings.asterisk_instance_name``):
its own directory tree (``etc run log spool lib share monitor cache``), its own ports and
its own control socket, so a ``dev`` and a ``test`` instance run side by side.

Where the instance lives:

* ``chroot`` mode (the default here; Debian 12 has no Asterisk package): inside the
  cached Debian-unstable chroot at ``/srv/hotline/<instance>`` (host path
  ``<chroot>/srv/hotline/<instance>``); Asterisk runs as ``chroot DIR /usr/sbin/asterisk``.
* ``native`` mode (an installed ``asterisk`` binary): ``<state_dir>/asterisk/<instance>``.
* ``external`` mode: somebody else runs Asterisk; ``up``/``down`` refuse, ``status``
  only checks that the AMI port answers.

``up`` re-renders the instance's ``etc/`` from ``asterisk-conf/`` and ``dialplans/``
every time (see :mod:`cti.asterisk.render`), starts ``asterisk -f`` detached in its own
session with its console output in ``log/console.log``, and waits for FullyBooted.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from cti.asterisk import chroot as chroot_mod
from cti.asterisk.errors import (
    AsteriskCommandError,
    AsteriskModeError,
    AsteriskNotRunningError,
    AsteriskStartError,
    InstanceConfigError,
    PortInUseError,
)
from cti.asterisk.media import write_comfort_tone, write_silence
from cti.asterisk.render import (
    INSTANCE_DIRS,
    InstanceValues,
    render_instance,
    shipped_files,
)
from cti.settings import AsteriskMode, Settings

log = logging.getLogger(__name__)

_NOT_RUNNING_MARKERS = ("Unable to connect to remote asterisk", "No such file or directory")


@dataclass(frozen=True)
class InstanceLayout:
    """Where files shared with Asterisk live, on the host and as Asterisk sees them
    (they differ in chroot mode). ``share`` holds prompts and simulator audio Hotline
    writes for Asterisk to play; ``monitor`` holds the recordings Asterisk writes."""

    share_host: Path
    share_asterisk: PurePosixPath
    monitor_host: Path
    monitor_asterisk: PurePosixPath
    root_host: Path
    root_asterisk: PurePosixPath

    def to_asterisk(self, host_path: Path) -> PurePosixPath:
        """The path Asterisk uses for ``host_path`` (which must be under share/ or
        monitor/). Raises ValueError otherwise."""
        resolved = Path(os.path.abspath(host_path))
        for host, seen in (
            (self.share_host, self.share_asterisk),
            (self.monitor_host, self.monitor_asterisk),
        ):
            try:
                relative = resolved.relative_to(host)
            except ValueError:
                continue
            return seen / PurePosixPath(relative.as_posix())
        raise ValueError(
            f"{host_path} is outside the instance's share ({self.share_host}) and "
            f"monitor ({self.monitor_host}) directories, so Asterisk cannot see it"
        )

    def to_host(self, asterisk_path: PurePosixPath | str) -> Path:
        """The host path of a file Asterisk names (e.g. a recording). Raises ValueError
        for paths outside share/ and monitor/."""
        path = PurePosixPath(asterisk_path)
        for host, seen in (
            (self.share_host, self.share_asterisk),
            (self.monitor_host, self.monitor_asterisk),
        ):
            try:
                relative = path.relative_to(seen)
            except ValueError:
                continue
            if ".." in relative.parts:
                break
            return host / relative
        raise ValueError(f"{asterisk_path} is outside the instance's share and monitor dirs")


@dataclass(frozen=True)
class AsteriskStatus:
    instance: str
    mode: str  # "chroot" | "native" | "external"
    running: bool
    booted: bool
    version: str | None = None  # e.g. "22.10.1+dfsg+~cs6.17.60671434-1"
    pid: int | None = None
    ami_host: str = "127.0.0.1"
    ami_port: int = 0
    ami_listening: bool = False
    sip_port: int = 0
    agi_url: str = ""
    log_path: Path | None = None
    detail: str = ""
    ports: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        state = "booted" if self.booted else ("running (not booted)" if self.running else "stopped")
        lines = [
            f"instance {self.instance} ({self.mode}): {state}",
            f"  version   {self.version or '-'}",
            f"  pid       {self.pid or '-'}",
            f"  AMI       {self.ami_host}:{self.ami_port} "
            f"({'listening' if self.ami_listening else 'not listening'})",
            f"  SIP       127.0.0.1:{self.sip_port}/udp",
            f"  FastAGI   {self.agi_url} (Hotline's server; Asterisk connects to it)",
        ]
        if self.log_path:
            lines.append(f"  log       {self.log_path}")
        if self.detail:
            lines.append(f"  note      {self.detail}")
        return "\n".join(lines)


def _tcp_listening(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _port_free(kind: int, host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as probe:
        if kind == socket.SOCK_STREAM:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _tail(path: Path, lines: int = 40) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 16384))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _process_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return [part.decode("utf-8", "replace") for part in handle.read().split(b"\0") if part]
    except OSError:
        return []


class AsteriskRunner:
    """Start, stop, inspect and talk to one provisioned Asterisk instance.

    ``stop_at_exit=True`` (the test fixture) also stops an Asterisk this runner started
    when the Python process exits, as a last line of defence against stray processes.
    """

    def __init__(self, settings: Settings, *, stop_at_exit: bool = False) -> None:
        self.settings = settings
        self.instance = settings.asterisk_instance_name
        self.mode = self._resolve_mode(settings.asterisk_mode)
        self._native_binary = shutil.which("asterisk") if self.mode is AsteriskMode.NATIVE else None
        self.chroot_dir = settings.effective_chroot_dir
        if self.mode is AsteriskMode.CHROOT:
            root_asterisk = PurePosixPath("/srv/hotline") / self.instance
            root_host = self.chroot_dir / "srv" / "hotline" / self.instance
        else:
            root_host = settings.state_dir / "asterisk" / self.instance
            root_asterisk = PurePosixPath(os.path.abspath(root_host))
        self.layout = InstanceLayout(
            share_host=root_host / "share",
            share_asterisk=root_asterisk / "share",
            monitor_host=root_host / "monitor",
            monitor_asterisk=root_asterisk / "monitor",
            root_host=root_host,
            root_asterisk=root_asterisk,
        )
        self._stop_at_exit = stop_at_exit
        self._proc: subprocess.Popen[bytes] | None = None

    # -- paths -------------------------------------------------------------------------

    @staticmethod
    def _resolve_mode(mode: AsteriskMode) -> AsteriskMode:
        if mode is AsteriskMode.AUTO:
            return AsteriskMode.NATIVE if shutil.which("asterisk") else AsteriskMode.CHROOT
        if mode is AsteriskMode.NATIVE and not shutil.which("asterisk"):
            raise AsteriskModeError(
                "asterisk_mode is native but no `asterisk` binary is on PATH; "
                "use auto or chroot to let Hotline provision one"
            )
        return mode

    def _host(self, sub: str) -> Path:
        return self.layout.root_host / sub

    @property
    def conf_path(self) -> PurePosixPath:
        """asterisk.conf of the instance, as Asterisk sees it."""
        return self.layout.root_asterisk / "etc" / "asterisk.conf"

    @property
    def log_path(self) -> Path:
        return self._host("log") / "console.log"

    @property
    def messages_log_path(self) -> Path:
        return self._host("log") / "messages.log"

    @property
    def _pidfile(self) -> Path:
        return self._host("run") / "hotline-runner.pid"

    @property
    def values(self) -> InstanceValues:
        s = self.settings
        return InstanceValues(
            name=self.instance,
            root=self.layout.root_asterisk,
            ami_bind=s.ami_host,
            ami_port=s.ami_port,
            ami_username=s.ami_username,
            ami_secret=s.ami_secret.get_secret_value(),
            agi_host=s.agi_host,
            agi_port=s.agi_port,
            sip_port=s.asterisk_sip_port,
            audiosocket_host=s.audiosocket_host,
            audiosocket_port=s.audiosocket_port,
        )

    def _argv(self, *args: str) -> list[str]:
        if self.mode is AsteriskMode.CHROOT:
            base = ["chroot", str(self.chroot_dir), chroot_mod.ASTERISK_IN_CHROOT]
        elif self.mode is AsteriskMode.NATIVE:
            assert self._native_binary
            base = [self._native_binary]
        else:
            raise AsteriskModeError(
                "asterisk_mode is external: Asterisk is run by someone else; Hotline only "
                f"connects to its AMI at {self.settings.ami_host}:{self.settings.ami_port}"
            )
        return [*base, "-C", str(self.conf_path), *args]

    # -- rendering ---------------------------------------------------------------------

    def render(self) -> None:
        """(Re)write the instance's etc/ from the project files and generate its media.
        share/ (Hotline's prompts) and monitor/ (recordings) are kept."""
        values = self.values
        files = shipped_files(self.settings.asterisk_conf_dir, self.settings.dialplans_dir)
        if "asterisk.conf" not in files:
            raise InstanceConfigError(f"{self.settings.asterisk_conf_dir}/asterisk.conf is missing")
        generated = render_instance(values, files.pop("asterisk.conf").read_text())
        for sub in INSTANCE_DIRS:
            self._host(sub).mkdir(parents=True, exist_ok=True)
        (self._host("lib") / "keys").mkdir(exist_ok=True)
        etc = self._host("etc")
        staging = etc.with_name("etc.new")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        for name, source in files.items():
            shutil.copyfile(source, staging / name)
        for name, text in generated.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        old = etc.with_name("etc.old")
        shutil.rmtree(old, ignore_errors=True)
        etc.rename(old)
        staging.rename(etc)
        shutil.rmtree(old, ignore_errors=True)
        share = self.layout.share_host
        write_silence(share / "sim" / "silence-1s.wav", 1.0)
        moh = share / "moh" / "hotline-comfort.wav"
        if not moh.exists():
            write_comfort_tone(moh)

    # -- process -----------------------------------------------------------------------

    def _pid(self) -> int | None:
        """The pid of this instance's Asterisk if it runs, else None."""
        candidates: list[int] = []
        for pidfile in (self._pidfile, self._host("run") / "asterisk.pid"):
            with contextlib.suppress(OSError, ValueError):
                candidates.append(int(pidfile.read_text().strip()))
        for pid in candidates:
            if not _process_alive(pid):
                continue
            argv = _cmdline(pid)
            # In the chroot, asterisk.pid holds the pid as seen there, which is the same
            # pid (no pid namespace); make sure it is our instance, not a recycled pid.
            if any("asterisk" in part for part in argv) and str(self.conf_path) in argv:
                return pid
        return None

    def _wait_exit(self, pid: int, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.pid == pid:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(timeout=0.1)
                if self._proc.returncode is not None:
                    return True
            elif not _process_alive(pid):
                return True
            else:
                time.sleep(0.1)
        return not _process_alive(pid)

    def _rx(self, command: str, timeout_s: float = 30.0) -> subprocess.CompletedProcess[str]:
        if any(ch in command for ch in "\r\n\x00"):
            raise AsteriskCommandError("a CLI command cannot contain CR, LF or NUL")
        try:
            return subprocess.run(
                self._argv("-rx", command),
                capture_output=True,
                text=True,
                errors="replace",
                timeout=timeout_s,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise AsteriskCommandError(f"`{command}` did not answer in {timeout_s:.0f} s") from exc

    def cli(self, command: str, timeout_s: float = 30.0) -> str:
        """Run one Asterisk CLI command on this instance (``asterisk -rx``) and return
        its output."""
        result = self._rx(command, timeout_s)
        output = result.stdout
        if result.returncode != 0 or any(m in output for m in _NOT_RUNNING_MARKERS):
            if self._pid() is None:
                raise AsteriskNotRunningError(
                    f"Asterisk instance {self.instance!r} is not running (`hotline asterisk up`)"
                )
            raise AsteriskCommandError(
                f"`{command}` failed (exit {result.returncode}): {(output + result.stderr).strip()}"
            )
        return output

    def _check_ports(self) -> None:
        s = self.settings
        problems = []
        if not _port_free(socket.SOCK_STREAM, s.ami_host, s.ami_port):
            problems.append(f"AMI port {s.ami_host}:{s.ami_port}/tcp")
        if not _port_free(socket.SOCK_DGRAM, "127.0.0.1", s.asterisk_sip_port):
            problems.append(f"SIP port 127.0.0.1:{s.asterisk_sip_port}/udp")
        if problems:
            raise PortInUseError(
                f"cannot start Asterisk instance {self.instance!r}: "
                + " and ".join(problems)
                + " already in use by another program (another instance? `ss -lntup`)"
            )

    def up(self, timeout_s: float = 90) -> AsteriskStatus:
        """Start the instance (building the chroot first when needed) and wait until
        Asterisk is FullyBooted and its AMI port answers. Idempotent: when it already
        runs, the configuration is re-rendered and reloaded."""
        if self.mode is AsteriskMode.EXTERNAL:
            self._argv()  # raises the explanatory AsteriskModeError
        if self.mode is AsteriskMode.CHROOT:
            chroot_mod.ensure(self.chroot_dir)
        deadline = time.monotonic() + timeout_s
        if self._pid() is not None:
            self.render()
            self.cli("core reload")
            self._wait_booted(deadline)
            return self.status()
        self._check_ports()
        self.render()
        for stale in (self._pidfile, self._host("run") / "asterisk.ctl"):
            stale.unlink(missing_ok=True)
        log_file = open(self.log_path, "ab")
        try:
            log_file.write(f"\n=== hotline asterisk up {time.strftime('%F %T')} ===\n".encode())
            log_file.flush()
            self._proc = subprocess.Popen(
                self._argv("-f"),
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # detached: survives `hotline asterisk up` exiting
                close_fds=True,
            )
        finally:
            log_file.close()
        self._pidfile.write_text(f"{self._proc.pid}\n")
        if self._stop_at_exit:
            atexit.register(self._stop_at_exit_hook, self._proc.pid)
        try:
            self._wait_booted(deadline)
        except BaseException:
            with contextlib.suppress(Exception):
                self.down(timeout_s=10)
            raise
        return self.status()

    def _startup_error(self, message: str) -> AsteriskStartError:
        tail = _tail(self.log_path) or _tail(self.messages_log_path)
        return AsteriskStartError(message, tail)

    def _wait_booted(self, deadline: float) -> None:
        while True:
            remaining = deadline - time.monotonic()
            if self._proc is not None and self._proc.poll() is not None:
                raise self._startup_error(
                    f"Asterisk instance {self.instance!r} exited during start-up "
                    f"(exit status {self._proc.returncode})"
                )
            if remaining <= 0:
                raise self._startup_error(
                    f"Asterisk instance {self.instance!r} did not report FullyBooted in time"
                )
            try:
                result = self._rx("core waitfullybooted", timeout_s=max(0.5, remaining))
            except AsteriskCommandError:
                continue
            if result.returncode == 0 and "fully booted" in result.stdout.lower():
                break
            time.sleep(0.1)
        s = self.settings
        while not _tcp_listening(s.ami_host, s.ami_port):
            if time.monotonic() > deadline:
                raise self._startup_error(
                    f"Asterisk booted but its AMI port {s.ami_host}:{s.ami_port} does not answer"
                )
            time.sleep(0.1)

    def _stop_at_exit_hook(self, pid: int) -> None:
        if self._pid() == pid:
            with contextlib.suppress(Exception):
                self.down(timeout_s=10)

    def down(self, timeout_s: float = 30) -> None:
        """Stop the instance: ``core stop gracefully``, then ``core stop now``, then
        SIGTERM, then SIGKILL, each with a share of ``timeout_s``. No-op when stopped."""
        if self.mode is AsteriskMode.EXTERNAL:
            self._argv()
        pid = self._pid()
        if pid is not None:
            share = max(timeout_s / 4, 1.0)
            steps: list[tuple[str, str | int]] = [
                ("cli", "core stop gracefully"),
                ("cli", "core stop now"),
                ("signal", signal.SIGTERM),
                ("signal", signal.SIGKILL),
            ]
            for kind, what in steps:
                if kind == "cli":
                    with contextlib.suppress(AsteriskCommandError, AsteriskNotRunningError):
                        self._rx(str(what), timeout_s=share)
                else:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, int(what))
                if self._wait_exit(pid, share):
                    break
                log.warning("Asterisk %s (pid %s) still running after %s", self.instance, pid, what)
            else:
                raise AsteriskCommandError(f"Asterisk pid {pid} survived SIGKILL")
        if self._proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=5)
            self._proc = None
        self._pidfile.unlink(missing_ok=True)

    # -- status ------------------------------------------------------------------------

    def status(self) -> AsteriskStatus:
        s = self.settings
        base = dict(
            instance=self.instance,
            mode=self.mode.value,
            ami_host=s.ami_host,
            ami_port=s.ami_port,
            sip_port=s.asterisk_sip_port,
            agi_url=self.values.agi_url,
            ports={"ami": s.ami_port, "sip": s.asterisk_sip_port, "agi": s.agi_port},
        )
        if self.mode is AsteriskMode.EXTERNAL:
            listening = _tcp_listening(s.ami_host, s.ami_port)
            return AsteriskStatus(
                running=listening,
                booted=listening,
                ami_listening=listening,
                detail="external Asterisk: only its AMI port was checked",
                **base,  # type: ignore[arg-type]
            )
        pid = self._pid()
        if pid is None:
            return AsteriskStatus(running=False, booted=False, log_path=self.log_path, **base)  # type: ignore[arg-type]
        version = None
        booted = False
        detail = ""
        try:
            version_line = self.cli("core show version", timeout_s=5).strip()
            parts = version_line.split()
            version = parts[1] if len(parts) > 1 and parts[0] == "Asterisk" else version_line
            booted = "fully booted" in self._rx("core waitfullybooted", timeout_s=2).stdout.lower()
        except AsteriskCommandError as exc:
            detail = str(exc)
        return AsteriskStatus(
            running=True,
            booted=booted,
            version=version,
            pid=pid,
            ami_listening=_tcp_listening(s.ami_host, s.ami_port),
            log_path=self.log_path,
            detail=detail,
            **base,  # type: ignore[arg-type]
        )
