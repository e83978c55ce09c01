"""``hotline asterisk check``: is an Asterisk configuration safe and complete for Hotline?

Reads the shipped ``asterisk-conf/`` (or an admin's own directory) with pyst2's
``asterisk.config`` parser and reports findings with file and line:

* AMI (manager.conf): the Hotline user exists; it may not run shell/CLI commands or edit
  configuration (write classes ``system``, ``command``, ``config``, ``all`` refused); it
  has the rights Hotline needs; AMI listens on loopback unless an address is explicitly
  allowed; only loopback may log in as that user unless allowed; in production the
  development secret (and pjsip ``change-me`` passwords) are refused.
* Dialplan: the contexts Hotline relies on exist, ``[globals]`` names the FastAGI URL.
* Queues and modules: the fallback queue exists with members; the modules the
  dialplan uses are loaded.

pyst2's parser knows sections and ``name = value`` lines only; :class:`AsteriskConfig`
adds what Asterisk config files also contain — ``#include``/``#tryinclude`` directives
and template markers ``[name](!)`` / ``[name](template)`` — while keeping line numbers.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from asterisk.config import Config, ParseError

from cti.settings import DEV_AMI_SECRET

REQUIRED_CONTEXTS = (
    "hotline-inbound",
    "hotline-fallback",
    "hotline-agents",
    "hotline-wait",
    "hotline-hangup",
    "hotline-acd-agent",
    "hotline-acd-callback",
    "hotline-acd-overflow",
)
SIMULATION_CONTEXTS = ("caller-sim", "caller-sim-inbound", "agent-sim")
FORBIDDEN_WRITE = {
    "system": "restart Asterisk, load modules, write files (MixMonitor action), run SHELL()",
    "command": "run any CLI command",
    "config": "read and rewrite configuration files",
    "all": "everything, including system and command",
}
NEEDED_WRITE = {"originate", "call", "agent", "reporting"}
NEEDED_READ = {"system", "call", "agent", "user"}
NEEDED_MODULES = (
    "pbx_config.so",
    "res_agi.so",
    "app_queue.so",
    "app_playback.so",
    "app_userevent.so",
    "func_base64.so",
    "func_strings.so",
    "func_callerid.so",
    "func_dialplan.so",
    "func_timeout.so",
    "res_musiconhold.so",
    "format_wav.so",
    "app_senddtmf.so",
)


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    severity: Severity
    file: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        return f"{where}: {self.severity.value}: {self.message}"


@dataclass
class Section:
    name: str
    line: int
    options: list[str] = field(default_factory=list)  # e.g. ["!"], ["agent-phone"], ["+"]
    items: list[tuple[str, str, int]] = field(default_factory=list)  # name, value, line

    @property
    def is_template(self) -> bool:
        return "!" in self.options

    def get_all(self, name: str) -> list[tuple[str, int]]:
        return [(v, n) for k, v, n in self.items if k.lower() == name.lower()]

    def get(self, name: str) -> tuple[str, int] | None:
        values = self.get_all(name)
        return values[-1] if values else None  # Asterisk: the last value wins


_SECTION = re.compile(r"^\[([^\]]+)\]\s*(?:\(([^)]*)\))?\s*(;.*)?$")
_DIRECTIVE = re.compile(r"^#\s*(include|tryinclude|exec)\s+\"?([^\"]+?)\"?\s*(;.*)?$", re.I)


class AsteriskConfig(Config):  # type: ignore[misc]
    """pyst2's Config with Asterisk's directives and section options understood."""

    def __init__(self, filename: Path) -> None:
        self.directives: list[tuple[str, str, int]] = []  # kind, argument, line
        self.section_options: dict[int, list[str]] = {}  # line -> options
        super().__init__(str(filename))

    def load(self) -> None:
        with open(self.filename, encoding="utf-8", errors="replace") as handle:
            raw = handle.readlines()
        lines = []
        for number, text in enumerate(raw, start=1):
            stripped = text.strip()
            directive = _DIRECTIVE.match(stripped)
            section = _SECTION.match(stripped)
            if directive:
                self.directives.append((directive.group(1).lower(), directive.group(2), number))
                text = ";" + stripped + "\n"  # keep the line count, hide it from pyst2
            elif section and section.group(2) is not None:
                self.section_options[number] = [
                    o.strip() for o in section.group(2).split(",") if o.strip()
                ]
                text = f"[{section.group(1)}]\n"
            lines.append(text)
        self.raw_lines = lines

    def sections(self) -> list[Section]:
        result = []
        for category in self.categories:
            section = Section(
                name=category.name,
                line=category.number,
                options=self.section_options.get(category.number, []),
            )
            for item in category.items:
                section.items.append((item.name.strip(), item.value.strip(), item.number))
            result.append(section)
        return result


@dataclass
class ConfigSet:
    """All parsed files of one configuration directory (plus dialplans)."""

    files: dict[str, AsteriskConfig]
    paths: dict[str, Path]

    def sections(self, filename: str) -> list[Section]:
        config = self.files.get(filename)
        return config.sections() if config else []

    def section(self, filename: str, name: str) -> Section | None:
        """The named non-template section, with later ``[name](+)`` additions merged in
        (also those of a rendered instance's ``hotline-instance/`` overrides, which is
        where `hotline asterisk up` puts the instance's bind address and secret)."""
        found: Section | None = None
        override = "globals.conf" if filename == "extensions.conf" else filename
        sections = self.sections(filename) + self.sections(f"hotline-instance/{override}")
        for section in sections:
            if section.name != name or section.is_template:
                continue
            if found is None:
                found = section
            elif "+" in section.options:
                found.items.extend(section.items)
        return found


def load(conf_dir: Path, dialplans_dir: Path | None) -> tuple[ConfigSet, list[Finding]]:
    findings: list[Finding] = []
    files: dict[str, AsteriskConfig] = {}
    paths: dict[str, Path] = {}
    candidates = sorted(conf_dir.glob("*.conf"))
    if dialplans_dir is not None and dialplans_dir.is_dir():
        candidates += sorted(dialplans_dir.glob("*.conf"))
    instance = conf_dir / "hotline-instance"
    if instance.is_dir():  # a rendered instance etc/: its overrides count too
        candidates += [p for p in sorted(instance.glob("*.conf"))]
    for path in candidates:
        key = path.name if path.parent != instance else f"hotline-instance/{path.name}"
        try:
            files[key] = AsteriskConfig(path)
        except ParseError as exc:
            line, message = exc.args if len(exc.args) == 2 else (None, str(exc))
            findings.append(Finding(Severity.ERROR, path, line, f"cannot parse: {message}"))
        except OSError as exc:
            findings.append(Finding(Severity.ERROR, path, None, f"cannot read: {exc}"))
        paths[key] = path
    return ConfigSet(files, paths), findings


def _classes(value: str) -> set[str]:
    return {part.strip().lower() for part in value.split(",") if part.strip()}


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return address.strip().lower() == "localhost"


def _network(spec: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    address, _, mask = spec.partition("/")
    try:
        if mask and "." in mask:
            return ipaddress.ip_network(f"{address}/{mask}", strict=False)
        return ipaddress.ip_network(f"{address}/{mask}" if mask else address, strict=False)
    except ValueError:
        return None


class _Checker:
    def __init__(
        self,
        configs: ConfigSet,
        *,
        production: bool,
        allowed_binds: Iterable[str],
        ami_username: str,
    ) -> None:
        self.c = configs
        self.production = production
        self.allowed = {a.strip() for a in allowed_binds}
        self.user = ami_username
        self.findings: list[Finding] = []

    def _add(self, severity: Severity, filename: str, line: int | None, message: str) -> None:
        path = self.c.paths.get(filename, Path(filename))
        self.findings.append(Finding(severity, path, line, message))

    def error(self, filename: str, line: int | None, message: str) -> None:
        self._add(Severity.ERROR, filename, line, message)

    def warning(self, filename: str, line: int | None, message: str) -> None:
        self._add(Severity.WARNING, filename, line, message)

    # -- manager.conf ---------------------------------------------------------------

    def manager(self) -> None:
        f = "manager.conf"
        if f not in self.c.files:
            self.error(f, None, "manager.conf is missing: Hotline cannot reach AMI")
            return
        general = self.c.section(f, "general")
        if general is None:
            self.error(f, None, "no [general] section: AMI is disabled")
            return
        enabled = general.get("enabled")
        if enabled is None or enabled[0].lower() not in ("yes", "true", "1", "on"):
            self.error(f, enabled[1] if enabled else general.line, "AMI is not enabled")
        bind = general.get("bindaddr")
        if bind is None:
            self.error(f, general.line, "bindaddr is not set: AMI would listen on all addresses")
        elif not _is_loopback(bind[0]) and bind[0] not in self.allowed:
            self.error(
                f,
                bind[1],
                f"AMI listens on {bind[0]}, beyond loopback; use 127.0.0.1 or allow it "
                f"explicitly with --allow-bind {bind[0]}",
            )
        web = general.get("webenabled")
        if web and web[0].lower() in ("yes", "true", "1", "on"):
            self.warning(f, web[1], "AMI over HTTP is enabled; Hotline does not need it")
        self._manager_user(f)

    def _manager_user(self, f: str) -> None:
        user = self.c.section(f, self.user)
        if user is None:
            self.error(f, None, f"AMI user [{self.user}] does not exist")
            return
        secret = user.get("secret")
        if secret is None or not secret[0]:
            self.error(f, user.line, f"[{self.user}] has no secret")
        elif self.production and secret[0] == DEV_AMI_SECRET:
            self.error(f, secret[1], f"[{self.user}] still has the development secret")
        elif self.production and len(secret[0]) < 16:
            self.error(f, secret[1], f"[{self.user}] secret is shorter than 16 characters")
        write = user.get("write")
        write_classes = _classes(write[0]) if write else set()
        for name in sorted(write_classes & FORBIDDEN_WRITE.keys()):
            self.error(
                f,
                write[1] if write else user.line,
                f"[{self.user}] write={name} lets whoever holds Hotline's AMI secret "
                f"{FORBIDDEN_WRITE[name]}; remove it",
            )
        missing = NEEDED_WRITE - write_classes
        if missing and "all" not in write_classes:
            self.error(
                f,
                write[1] if write else user.line,
                f"[{self.user}] lacks write={','.join(sorted(missing))} that Hotline needs",
            )
        read = user.get("read")
        read_classes = _classes(read[0]) if read else set()
        if "all" in read_classes:
            self.error(f, read[1] if read else user.line, f"[{self.user}] read=all; list classes")
        missing = NEEDED_READ - read_classes
        if missing and "all" not in read_classes:
            self.error(
                f,
                read[1] if read else user.line,
                f"[{self.user}] lacks read={','.join(sorted(missing))} that Hotline needs",
            )
        if "dialplan" in read_classes and read:
            self.warning(
                f,
                read[1],
                f"[{self.user}] read=dialplan: Newexten events carry application data "
                "unescaped (a caller name with CR/LF can split an AMI event) and are most "
                "of the traffic; Hotline does not need them",
            )
        self._acl(f, user)

    def _acl(self, f: str, user: Section) -> None:
        denies = user.get_all("deny")
        permits = user.get_all("permit")
        if not denies or not any(
            network is not None and network.prefixlen == 0
            for network in (_network(v) for v, _ in denies)
        ):
            self.error(
                f,
                user.line,
                f"[{self.user}] has no 'deny = 0.0.0.0/0.0.0.0': it may log in from anywhere",
            )
        for value, line in permits:
            network = _network(value)
            if network is None:
                self.error(f, line, f"permit = {value} is not an address/mask")
            elif not network.is_loopback and value not in self.allowed:
                self.error(
                    f,
                    line,
                    f"[{self.user}] may log in from {value}, beyond loopback; allow it "
                    f"explicitly with --allow-bind {value}",
                )

    # -- dialplan -------------------------------------------------------------------

    def dialplan(self) -> None:
        contexts: dict[str, str] = {}
        for key, config in self.c.files.items():
            if key in ("extensions.conf",) or (key.endswith(".conf") and self._is_dialplan(config)):
                for section in config.sections():
                    contexts.setdefault(section.name, key)
        if "extensions.conf" not in self.c.files:
            self.error("extensions.conf", None, "extensions.conf is missing")
            return
        for name in REQUIRED_CONTEXTS:
            if name not in contexts:
                self.error("extensions.conf", None, f"dialplan context [{name}] is missing")
        for name in SIMULATION_CONTEXTS:
            if name not in contexts and not self.production:
                self.warning(
                    "extensions.conf",
                    None,
                    f"simulation context [{name}] is missing: simulated calls will fail",
                )
        ext = self.c.files["extensions.conf"]
        included = {arg for kind, arg, _ in ext.directives if kind in ("include", "tryinclude")}
        if "hotline.conf" not in included:
            self.error("extensions.conf", None, "extensions.conf does not #include hotline.conf")
        globals_ = self.c.section("extensions.conf", "globals")
        if globals_ is None or globals_.get("HOTLINE_AGI_URL") is None:
            self.error(
                "extensions.conf",
                globals_.line if globals_ else None,
                "[globals] has no HOTLINE_AGI_URL (agi://host:port of Hotline's FastAGI)",
            )
        else:
            url, line = globals_.get("HOTLINE_AGI_URL")  # type: ignore[misc]
            if not url.startswith("agi://"):
                self.error("extensions.conf", line, f"HOTLINE_AGI_URL={url} is not agi://host:port")

    @staticmethod
    def _is_dialplan(config: AsteriskConfig) -> bool:
        return any(
            name.lower() in ("exten", "same", "include")
            for section in config.sections()
            for name, _, _ in section.items
        )

    # -- queues, modules, pjsip ---------------------------------------------------------

    def queues(self) -> None:
        f = "queues.conf"
        queue = self.c.section(f, "hotline-fallback")
        if queue is None:
            self.error(
                f,
                None,
                "queue [hotline-fallback] is missing: callers would be dropped "
                "when Hotline is down",
            )
            return
        if not queue.get_all("member"):
            self.warning(
                f,
                queue.line,
                "[hotline-fallback] has no static members: nobody "
                "answers callers when Hotline is down",
            )

    def modules(self) -> None:
        f = "modules.conf"
        section = self.c.section(f, "modules")
        if section is None:
            self.warning(f, None, "modules.conf is missing: Asterisk loads every module")
            return
        autoload = section.get("autoload")
        loaded = {v.strip() for v, _ in section.get_all("load")}
        noload = {v.strip(): n for v, n in section.get_all("noload")}
        for module in NEEDED_MODULES:
            if module in noload:
                self.error(f, noload[module], f"{module} is needed by Hotline's dialplan")
            elif autoload and autoload[0].lower() == "no" and module not in loaded:
                self.error(f, autoload[1], f"autoload=no but {module} (needed) is not loaded")
        for dangerous in ("app_system.so", "func_shell.so"):
            if dangerous in loaded:
                self.warning(f, None, f"{dangerous} gives the dialplan shell access")

    def pjsip(self) -> None:
        f = "pjsip.conf"
        if not self.production:
            return
        for section in self.c.sections(f):
            password = section.get("password")
            if password and password[0].startswith("change-me"):
                self.error(f, password[1], f"[{section.name}] still has the example password")


def check_config(
    conf_dir: Path,
    dialplans_dir: Path | None = None,
    *,
    production: bool = False,
    allowed_binds: Iterable[str] = (),
    ami_username: str = "hotline",
) -> list[Finding]:
    """All findings for the configuration in ``conf_dir`` (+ ``dialplans_dir``),
    errors first."""
    if not conf_dir.is_dir():
        return [Finding(Severity.ERROR, conf_dir, None, "not a directory")]
    configs, findings = load(conf_dir, dialplans_dir)
    checker = _Checker(
        configs, production=production, allowed_binds=allowed_binds, ami_username=ami_username
    )
    for step in (checker.manager, checker.dialplan, checker.queues, checker.modules, checker.pjsip):
        step()
    findings.extend(checker.findings)
    return sorted(
        findings, key=lambda x: (x.severity is not Severity.ERROR, str(x.file), x.line or 0)
    )


def errors(findings: Iterable[Finding]) -> Iterator[Finding]:
    return (f for f in findings if f.severity is Severity.ERROR)
