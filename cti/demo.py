"""``hotline demo``: the whole product on one machine, with simulated patients calling.

Starts the project's Asterisk, fills an empty SQLite store with a sample hospital, runs
Hotline, places a handful of simulated calls (known patients, a family phone, an unknown
number, a withheld one, a hostile caller ID) and prints what happened to each.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from dataclasses import dataclass, field
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_store.database import Database
from crm_store.models import Patient, PhoneNumber
from crm_store.repositories.calls import CallRepository, CallSnapshot
from crm_store.seed import DEV_USERS, seed_database
from cti.ami_recorder import AmiRecorder, save_capture
from cti.asterisk.provisioner import AsteriskRunner
from cti.service import Hotline
from cti.settings import Settings
from cti.simulator import SimulatedCaller, place_call, silence
from cti.tracker import TrackedCall

console = Console()
_SUPERVISOR = next(user for user in DEV_USERS if user[0] == "supervisor")


@dataclass
class DemoCall:
    label: str
    caller: SimulatedCaller
    uniqueid: str = ""
    heard: list[str] = field(default_factory=list)
    record: CallSnapshot | None = None


def _sample_numbers(database: Database) -> tuple[list[str], list[str]]:
    """Two patients' own numbers and one family member's number from the store."""
    with database.session() as session:
        own = session.scalars(
            select(PhoneNumber.e164)
            .where(PhoneNumber.relation.is_(None))
            .order_by(PhoneNumber.id)
            .limit(2)
        ).all()
        family = session.scalars(
            select(PhoneNumber.e164)
            .where(PhoneNumber.relation.is_not(None))
            .order_by(PhoneNumber.id)
            .limit(1)
        ).all()
    return list(own), list(family)


def _ensure_sample_hospital(database: Database, patients: int) -> None:
    database.migrate()
    with database.session() as session:
        count = session.scalar(select(func.count()).select_from(Patient))
    if count:
        console.print(f"store: {count} patients already there, not seeding")
        return
    report = seed_database(database, patients=patients, seed=42)
    console.print(
        f"store: seeded {report.patients} patients, {report.doctors} doctors, "
        f"{report.slots} slots, {report.appointments} appointments in {report.seconds:.1f} s"
    )


def _national(e164: str) -> str:
    """A Chinese mobile as people write it, to show that formats still match."""
    digits = e164.removeprefix("+86")
    return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"


def _demo_calls(own: list[str], family: list[str]) -> list[DemoCall]:
    calls = []
    if own:
        calls.append(DemoCall("known patient", SimulatedCaller(number=own[0], hold_s=10)))
    if len(own) > 1:
        calls.append(
            DemoCall(
                "known patient, national format",
                SimulatedCaller(number=_national(own[1]), hold_s=10),
            )
        )
    if family:
        calls.append(
            DemoCall("family member's phone", SimulatedCaller(number=family[0], hold_s=10))
        )
    calls += [
        DemoCall("unknown number", SimulatedCaller(number="+86 139 0000 0000", hold_s=10)),
        DemoCall("withheld number", SimulatedCaller(number="", withheld=True, hold_s=10)),
        DemoCall(
            "hostile caller ID",
            SimulatedCaller(
                number="1380013\r\nAction: Hangup",
                name="Evil\r\nEvent: Shutdown",
                script=[silence(1)],
                hold_s=1,
            ),
        ),
    ]
    return calls


async def _run_demo(
    settings: Settings,
    layout_runner: AsteriskRunner,
    calls: list[DemoCall],
    stay: bool,
    capture: Path | None = None,
) -> None:
    hotline = await Hotline.start(settings, layout_runner.layout)
    recorder: AmiRecorder | None = None
    if capture is not None:
        recorder = AmiRecorder(
            settings.ami_host,
            settings.ami_port,
            settings.ami_username,
            settings.ami_secret.get_secret_value(),
        )
        await recorder.start()
    ended: dict[str, TrackedCall] = {}
    heard: dict[str, list[str]] = {}
    all_ended = asyncio.Event()

    def on_ended(_topic: str, call: TrackedCall) -> None:
        for uniqueid in call.legs:
            ended[uniqueid] = call
        if all(d.uniqueid and d.uniqueid in ended for d in calls):
            all_ended.set()

    hotline.bus.subscribe("demo-ended", ["call.ended"], on_ended)
    hotline.bus.subscribe(
        "demo-prompts",
        ["ivr.prompt_played"],
        lambda _t, p: heard.setdefault(p.uniqueid, []).append(p.text),
    )
    try:
        console.print(
            f"web console: [bold]{hotline.web_url}/calls[/bold] — sign in as "
            f"{_SUPERVISOR[0]} / {_SUPERVISOR[3]} (development password)"
        )
        for demo in calls:
            placed = await place_call(hotline.ami, demo.caller)
            demo.uniqueid = placed.uniqueid
            console.print(f"calling: {demo.label} (channel {placed.channel})")
            await asyncio.sleep(1.5)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_ended.wait(), 60)
        await hotline.journal.flush()
        if recorder is not None and capture is not None:
            save_capture(await recorder.stop(), capture)
            console.print(f"AMI capture of these calls: {capture}")
        for demo in calls:
            demo.heard = heard.get(demo.uniqueid, [])
            call = ended.get(demo.uniqueid)
            if call is not None:
                demo.record = await hotline.store.read(
                    functools.partial(_stored_call, linkedid=call.linkedid)
                )
        _print_results(calls)
        if stay:
            console.print(
                "Hotline keeps running; place more calls with "
                "`hotline call place --number 13800138000`. Ctrl-C stops."
            )
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.Event().wait()
    finally:
        if recorder is not None:
            await recorder.stop()
        await hotline.stop()


def _stored_call(session: Session, *, linkedid: str) -> CallSnapshot | None:
    return CallRepository(session).get(linkedid)


def _print_results(calls: list[DemoCall]) -> None:
    table = Table(title="What happened", show_lines=True)
    for column in (
        "call",
        "caller ID as stored",
        "number (E.164)",
        "patient id",
        "heard",
        "answered→ended",
        "hang-up",
    ):
        table.add_column(column)
    for demo in calls:
        record = demo.record
        if record is None:
            table.add_row(demo.label, "—", "—", "—", "; ".join(demo.heard), "not finished", "—")
            continue
        talk = (
            f"{(record.ended_at - record.answered_at).total_seconds():.1f} s"
            if record.answered_at and record.ended_at
            else "—"
        )
        table.add_row(
            demo.label,
            record.caller_number_raw or "(none)",
            record.caller_number_e164 or "(not a number)",
            str(record.patient_id) if record.patient_id else "unknown",
            "; ".join(demo.heard) or "—",
            talk,
            f"{record.hangup_cause} {record.hangup_cause_text or ''}".strip(),
        )
    console.print(table)


@click.command("demo")
@click.option("--patients", default=200, show_default=True, help="Sample patients to seed.")
@click.option(
    "--exit",
    "exit_after",
    is_flag=True,
    help="Stop after the calls (don't keep serving; stop the Asterisk the demo started).",
)
@click.option(
    "--capture-ami",
    "capture",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also save Asterisk's AMI stream during the calls to this file (.gz: compressed).",
)
@click.pass_obj
def demo_command(settings: Settings, patients: int, exit_after: bool, capture: Path | None) -> None:
    """Run Asterisk + Hotline on SQLite with sample patients and place simulated calls."""
    runner = AsteriskRunner(settings)
    started_here = not runner.status().running
    status = runner.up()
    console.print(f"asterisk: {status.describe()}")
    database = Database(settings.effective_database_url)
    try:
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        _ensure_sample_hospital(database, patients)
        own, family = _sample_numbers(database)
    finally:
        database.dispose()
    calls = _demo_calls(own, family)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_run_demo(settings, runner, calls, stay=not exit_after, capture=capture))
    finally:
        if exit_after and started_here:
            runner.down()  # leave the machine as the demo found it
