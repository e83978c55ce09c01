"""The ``hotline`` command. Each domain contributes its own command group; this module
only assembles them and loads settings once."""

from __future__ import annotations

import logging

import click

from cti.settings import load_settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
@click.pass_context
def main(ctx: click.Context, verbose: int) -> None:
    """Hotline: CTI and IVR engine for a hospital's patient hotline, on Asterisk."""
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx.obj = load_settings()


def _register() -> None:
    from crm_store.cli import data_group, db_group
    from cti.asterisk.cli import asterisk_group
    from cti.demo import demo_command
    from cti.service_cli import call_group, serve_command
    from ivr.cli import ivr_group, prompts_group

    for command in (
        asterisk_group,
        db_group,
        data_group,
        prompts_group,
        ivr_group,
        call_group,
        serve_command,
        demo_command,
    ):
        main.add_command(command)


_register()
