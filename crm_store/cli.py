"""``hotline db ...`` and ``hotline data ...`` commands.

Both groups take the Settings object the main command puts in ``ctx.obj`` and use its
``effective_database_url`` and ``country``.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from crm_store.csv_import import ImportReport, import_appointments, import_patients
from crm_store.database import Database
from crm_store.seed import DEV_USERS, StoreNotEmpty, seed_database
from cti.settings import Settings


def _database(settings: Settings) -> Database:
    return Database(settings.effective_database_url)


@click.group(name="db")
def db_group() -> None:
    """The store's schema (Alembic migrations shipped with Hotline)."""


@db_group.command("upgrade")
@click.pass_obj
def db_upgrade(settings: Settings) -> None:
    """Migrate the database to the newest schema (creates it if empty)."""
    database = _database(settings)
    try:
        database.migrate()
        click.echo(f"{database.dialect} database at revision {database.current_revision()}")
    finally:
        database.dispose()


@db_group.command("current")
@click.pass_obj
def db_current(settings: Settings) -> None:
    """Show the schema revision the database is at."""
    database = _database(settings)
    try:
        click.echo(database.current_revision() or "empty (run `hotline db upgrade`)")
    finally:
        database.dispose()


@click.group(name="data")
def data_group() -> None:
    """Sample data and CSV imports."""


@data_group.command("seed")
@click.option("--patients", type=click.IntRange(100, 1_000_000), default=1000, show_default=True)
@click.option(
    "--seed",
    "random_seed",
    type=int,
    default=42,
    show_default=True,
    help="Random seed: the same seed gives the same hospital.",
)
@click.pass_obj
def data_seed(settings: Settings, patients: int, random_seed: int) -> None:
    """Create a sample hospital in an empty store (migrates first).

    Development users: admin / hotline-admin-dev, supervisor / hotline-supervisor-dev,
    agent / hotline-agent-dev.
    """
    database = _database(settings)
    console = Console(stderr=True)
    try:
        database.migrate()
        with Progress(
            TextColumn("{task.description:<40}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            tasks: dict[str, TaskID] = {}

            def report(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    tasks[phase] = progress.add_task(phase, total=total)
                progress.update(tasks[phase], completed=done)

            result = seed_database(
                database,
                patients=patients,
                seed=random_seed,
                clinic_tz=settings.clinic_timezone,
                progress=report,
                id_hasher=settings.national_id_hasher(),
            )
    except StoreNotEmpty as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        database.dispose()
    click.echo(
        f"seeded {result.patients} patients ({result.phone_numbers} numbers), "
        f"{result.doctors} doctors, {result.slots} slots, {result.appointments} appointments, "
        f"{result.waitlist_entries} waitlist entries, {result.calls} calls, "
        f"{result.complaints} complaints in {result.seconds:.1f} s "
        f"({result.patients_per_second:,.0f} patients/s)"
    )
    click.echo("users: " + ", ".join(f"{u[0]} / {u[3]}" for u in DEV_USERS))


@data_group.command("import")
@click.option(
    "--patients",
    "patients_csv",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV of patients (see crm_store/csv_import.py).",
)
@click.option(
    "--appointments",
    "appointments_csv",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV of appointments.",
)
@click.pass_obj
def data_import(
    settings: Settings, patients_csv: Path | None, appointments_csv: Path | None
) -> None:
    """Load patients and/or appointments from CSV, reporting rejected rows and why."""
    if not patients_csv and not appointments_csv:
        raise click.UsageError("give --patients and/or --appointments")
    database = _database(settings)
    failed = False
    try:
        database.migrate()
        reports: list[ImportReport] = []
        try:
            if patients_csv:
                reports.append(
                    import_patients(
                        database,
                        patients_csv,
                        region=settings.country,
                        id_hasher=settings.national_id_hasher(),
                    )
                )
            if appointments_csv:
                reports.append(
                    import_appointments(
                        database, appointments_csv, clinic_tz=settings.clinic_timezone
                    )
                )
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        for report in reports:
            click.echo(f"{report.kind}: {report.loaded} loaded, {len(report.rejected)} rejected")
            for rejection in report.rejected:
                click.echo(f"  line {rejection.line}: {rejection.reason}", err=True)
            failed = failed or bool(report.rejected)
    finally:
        database.dispose()
    if failed:
        raise SystemExit(1)  # rows were rejected: scripts must notice, the rest is loaded
