"""``hotline asterisk check`` on the shipped configuration and on broken copies of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cti.asterisk.cli import asterisk_group
from cti.asterisk.config_check import Finding, Severity, check_config
from cti.settings import PROJECT_ROOT, Settings

SHIPPED = PROJECT_ROOT / "asterisk-conf"
DIALPLANS = PROJECT_ROOT / "dialplans"


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    target = tmp_path / "asterisk-conf"
    shutil.copytree(SHIPPED, target)
    for dialplan in DIALPLANS.glob("*.conf"):
        shutil.copy(dialplan, target / dialplan.name)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def _errors(findings: list[Finding]) -> list[str]:
    return [str(f) for f in findings if f.severity is Severity.ERROR]


def test_shipped_configuration_passes() -> None:
    assert check_config(SHIPPED, DIALPLANS) == []


def test_production_refuses_development_secrets() -> None:
    errors = _errors(check_config(SHIPPED, DIALPLANS, production=True))
    assert any("manager.conf:" in e and "development secret" in e for e in errors)
    assert any("pjsip.conf:" in e and "example password" in e for e in errors)


def test_too_many_rights_and_a_public_bind_are_refused_with_file_and_line(conf: Path) -> None:
    manager = conf / "manager.conf"
    _edit(
        manager,
        "write = originate,call,agent,user,reporting",
        "write = originate,call,agent,user,reporting,system,command",
    )
    _edit(manager, "bindaddr = 127.0.0.1         ; loopback only", "bindaddr = 0.0.0.0")
    _edit(manager, "permit = 127.0.0.1/255.255.255.255", "permit = 10.0.0.0/255.0.0.0")
    errors = _errors(check_config(conf))
    line_of = {
        text: next(
            n for n, line in enumerate(manager.read_text().splitlines(), 1) if line.startswith(text)
        )
        for text in ("write =", "bindaddr =", "permit =")
    }
    assert f"{manager}:{line_of['write =']}: error: [hotline] write=command" in "\n".join(errors)
    assert any(
        e.startswith(f"{manager}:{line_of['write =']}:") and "write=system" in e for e in errors
    )
    assert any(
        e.startswith(f"{manager}:{line_of['bindaddr =']}:") and "0.0.0.0" in e for e in errors
    )
    assert any(
        e.startswith(f"{manager}:{line_of['permit =']}:") and "10.0.0.0" in e for e in errors
    )
    # An explicitly allowed address is accepted.
    allowed = _errors(check_config(conf, allowed_binds=["0.0.0.0", "10.0.0.0/255.0.0.0"]))
    assert not [e for e in allowed if "0.0.0.0" in e or "10.0.0.0" in e]


def test_missing_user_contexts_and_queue_are_reported(conf: Path) -> None:
    _edit(conf / "manager.conf", "[hotline]", "[someone-else]")
    _edit(conf / "hotline.conf", "[hotline-fallback]", "[renamed-fallback]")
    _edit(conf / "queues.conf", "[hotline-fallback]", "[other-queue]")
    _edit(conf / "modules.conf", "load => res_agi.so", "noload => res_agi.so")
    errors = "\n".join(_errors(check_config(conf)))
    assert "AMI user [hotline] does not exist" in errors
    assert "context [hotline-fallback] is missing" in errors
    assert "queue [hotline-fallback] is missing" in errors
    assert "res_agi.so is needed" in errors


def test_check_command_exit_status(conf: Path, tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path / "s", cache_dir=tmp_path / "c")
    runner = CliRunner()
    ok = runner.invoke(asterisk_group, ["check"], obj=settings)
    assert ok.exit_code == 0, ok.output
    assert "0 error(s)" in ok.output
    _edit(conf / "manager.conf", "write = originate,call,agent,user,reporting", "write = all")
    bad = runner.invoke(asterisk_group, ["check", "--conf-dir", str(conf)], obj=settings)
    assert bad.exit_code == 1
    assert "write=all" in bad.output
