"""``hotline asterisk up|down|status|cli|check`` — the provisioned Asterisk for
development, the tests and the demo, and a safety check of any Asterisk configuration."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from cti.asterisk.config_check import Severity, check_config
from cti.asterisk.errors import AsteriskError
from cti.asterisk.provisioner import AsteriskRunner
from cti.settings import Environment, Settings


def _runner(settings: Settings) -> AsteriskRunner:
    try:
        return AsteriskRunner(settings)
    except AsteriskError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group("asterisk")
def asterisk_group() -> None:
    """Run and inspect the project-provisioned Asterisk 22 (instance per settings)."""


@asterisk_group.command("up")
@click.option(
    "--timeout",
    "timeout_s",
    default=90.0,
    show_default=True,
    help="Seconds to wait for FullyBooted.",
)
@click.pass_obj
def up_command(settings: Settings, timeout_s: float) -> None:
    """Start Asterisk (building the chroot on first use) and wait until it is booted."""
    runner = _runner(settings)
    started = time.monotonic()
    try:
        status = runner.up(timeout_s=timeout_s)
    except AsteriskError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(status.describe())
    click.echo(f"ready in {time.monotonic() - started:.1f} s")


@asterisk_group.command("down")
@click.option("--timeout", "timeout_s", default=30.0, show_default=True)
@click.pass_obj
def down_command(settings: Settings, timeout_s: float) -> None:
    """Stop Asterisk cleanly (graceful, then now, then SIGTERM, then SIGKILL)."""
    try:
        _runner(settings).down(timeout_s=timeout_s)
    except AsteriskError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Asterisk instance {settings.asterisk_instance_name!r} stopped")


@asterisk_group.command("status")
@click.pass_obj
def status_command(settings: Settings) -> None:
    """Running? booted? version, pid, ports. Exit status 1 when not booted."""
    status = _runner(settings).status()
    click.echo(status.describe())
    sys.exit(0 if status.booted else 1)


@asterisk_group.command("cli")
@click.argument("command")
@click.pass_obj
def cli_command(settings: Settings, command: str) -> None:
    """Run one Asterisk CLI COMMAND on the instance, e.g. "core show channels"."""
    try:
        click.echo(_runner(settings).cli(command), nl=False)
    except AsteriskError as exc:
        raise click.ClickException(str(exc)) from exc


@asterisk_group.command("check")
@click.option(
    "--conf-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Configuration to check (default: the shipped asterisk-conf/).",
)
@click.option(
    "--dialplans-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Extra dialplan files (default: dialplans/ with the shipped config).",
)
@click.option(
    "--production/--development",
    default=None,
    help="Refuse development secrets and example passwords (default: from settings).",
)
@click.option(
    "--allow-bind",
    multiple=True,
    metavar="ADDRESS",
    help="An AMI bind address or permitted network beyond loopback that you accept.",
)
@click.pass_obj
def check_command(
    settings: Settings,
    conf_dir: Path | None,
    dialplans_dir: Path | None,
    production: bool | None,
    allow_bind: tuple[str, ...],
) -> None:
    """Check an Asterisk configuration for Hotline: least-privilege AMI user bound to
    loopback, no default secrets in production, the dialplan contexts Hotline needs."""
    if conf_dir is None:
        conf_dir = settings.asterisk_conf_dir
        dialplans_dir = dialplans_dir or settings.dialplans_dir
    if production is None:
        production = settings.environment is Environment.PRODUCTION
    findings = check_config(
        conf_dir,
        dialplans_dir,
        production=production,
        allowed_binds=allow_bind,
        ami_username=settings.ami_username,
    )
    for finding in findings:
        click.echo(str(finding), err=finding.severity is Severity.ERROR)
    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    warnings = len(findings) - errors
    mode = "production" if production else "development"
    click.echo(f"{conf_dir} ({mode}): {errors} error(s), {warnings} warning(s)")
    if errors:
        sys.exit(1)
