"""Complaint voice messages for supervisors: listed with their complaint, played with
range requests (and seeks) and downloaded, every play and download audited on the
complaint; agents and admins refused; a missing or damaged file reported, not offered for play.
On both store engines; and in a real Chromium."""

from __future__ import annotations

import math
from pathlib import Path

from playwright.async_api import Browser, expect

from crm_store.database import Database
from crm_store.enums import AuditAction, AuditEntity, BookingChannel, ComplaintCategory
from crm_store.repositories import AuditLogRepository, ComplaintRepository
from cti.asterisk.media import RATE, write_wav
from tests.recordings.helpers import play_muted
from tests.screenpop.conftest import Console
from tests.screenpop.test_browser import sign_in

SECONDS = 3.0


def _leave_message(console: Console, storage: Path, *, patient: str = "wang") -> tuple[int, Path]:
    """A complaint filed with a voice message (a real 8 kHz WAV, as the IVR keeps them)."""
    path = storage / "2026/11/29" / f"vm-{patient}.wav"
    tone = [int(8000 * math.sin(2 * math.pi * 440 * i / RATE)) for i in range(int(SECONDS * RATE))]
    write_wav(path, tone)
    with console.database.session() as session:
        repo = ComplaintRepository(session)
        ticket = repo.open(
            category=ComplaintCategory.WAITING_TIME,
            description="(voice message)",
            opened_via=BookingChannel.IVR,
            patient_id=console.patients[patient],
            voice_message_path=str(path),
            voice_message_s=SECONDS,
        )
    with console.database.session() as session:
        [listing] = [
            m
            for m in ComplaintRepository(session).with_voice_messages()
            if m.ticket_number == ticket
        ]
    return listing.complaint_id, path


def _audit(console: Console, complaint_id: int) -> list[tuple[AuditAction, int | None]]:
    with console.database.session() as session:
        entries = AuditLogRepository(session).for_entity(AuditEntity.COMPLAINT, complaint_id)
    return [(e.action, e.user_id) for e in entries if e.user_id is not None]


async def test_supervisor_plays_a_range_agents_and_admins_are_refused_plays_are_audited(
    make_console: object, database: Database, tmp_path: Path
) -> None:
    console: Console = await make_console(database=database)  # type: ignore[operator]
    complaint_id, path = _leave_message(console, tmp_path / "vm")
    audio = path.read_bytes()
    url = f"/supervisor/complaint-messages/{complaint_id}/audio"
    supervisor = console.user_ids["supervisor"]

    async with console.client() as client:
        await console.login(client, "supervisor")
        listing = await client.get("/api/supervisor/complaint-messages")
        assert listing.status_code == 200
        [row] = listing.json()["messages"]
        assert row["id"] == complaint_id
        assert row["category"] == "waiting_time" and row["status"] == "open"
        assert row["patient"] == "王秀英" and row["mrn"] == "MRN-1"
        assert row["seconds"] == SECONDS and row["playable"] is True
        assert row["file"] == "verified"

        first = await client.get(url, headers={"Range": "bytes=0-99"})
        assert first.status_code == 206
        assert first.content == audio[:100]
        assert first.headers["cache-control"] == "no-store"  # once, not twice
        assert _audit(console, complaint_id) == [(AuditAction.PLAY, supervisor)]

        seek = await client.get(url, headers={"Range": "bytes=1000-1999"})
        assert seek.status_code == 206
        assert seek.headers["content-range"] == f"bytes 1000-1999/{len(audio)}"
        assert seek.content == audio[1000:2000]
        assert _audit(console, complaint_id) == [(AuditAction.PLAY, supervisor)]  # same play

        download = await client.get(url + "?download=1")
        assert download.status_code == 200 and download.content == audio
        assert "attachment" in download.headers["content-disposition"]
        assert (AuditAction.EXPORT, supervisor) in _audit(console, complaint_id)

    with console.database.session() as session:
        views = AuditLogRepository(session).for_entity(
            AuditEntity.PATIENT, console.patients["wang"]
        )
    assert any(v.action is AuditAction.VIEW and v.user_id == supervisor for v in views), (
        "the list named the patient: a view of their record"
    )

    # Agents and admins see no patient data: refused, and nothing audited as theirs.
    for role in ("agent", "admin"):
        async with console.client() as client:
            await console.login(client, role)
            assert (await client.get("/api/supervisor/complaint-messages")).status_code == 403
            assert (await client.get(url)).status_code == 403
            assert (await client.get("/supervisor/complaint-messages")).status_code == 403
        refused = console.user_ids[role]
        assert all(user != refused for _, user in _audit(console, complaint_id))


async def test_a_missing_or_damaged_message_is_reported_not_playable(
    console: Console, tmp_path: Path
) -> None:
    gone_id, gone = _leave_message(console, tmp_path / "vm", patient="wang")
    cut_id, cut = _leave_message(console, tmp_path / "vm", patient="smith")
    gone.unlink()
    cut.write_bytes(cut.read_bytes()[:3000])  # truncated: header and size disagree

    async with console.client() as client:
        await console.login(client, "supervisor")
        rows = {
            r["id"]: r
            for r in (await client.get("/api/supervisor/complaint-messages")).json()["messages"]
        }
        assert rows[gone_id]["file"] == "missing" and rows[gone_id]["playable"] is False
        assert rows[cut_id]["file"] == "damaged" and rows[cut_id]["playable"] is False
        for complaint_id in (gone_id, cut_id):
            answer = await client.get(
                f"/supervisor/complaint-messages/{complaint_id}/audio?lang=en"
            )
            assert answer.status_code == 410
            assert "missing or damaged" in answer.text
            assert _audit(console, complaint_id) == []  # nothing was played
        assert (await client.get("/supervisor/complaint-messages/999999/audio")).status_code == 404


async def test_supervisor_finds_and_plays_a_message_in_the_browser(
    browser: Browser, console: Console, tmp_path: Path
) -> None:
    complaint_id, _path = _leave_message(console, tmp_path / "vm")
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    try:
        await sign_in(page, console, "supervisor")
        await page.get_by_role("link", name="Voice messages").click()
        await expect(page).to_have_url(f"{console.url}/supervisor/complaint-messages")
        row = page.locator(f'#complaint-messages tr[data-complaint-id="{complaint_id}"]')
        await expect(row).to_be_visible()
        await expect(row.locator("td.category")).to_have_text("Waiting time")
        await expect(row.locator("td.patient")).to_have_text("王秀英 (MRN-1)")
        await expect(row.locator("td.status")).to_have_text("Open")
        duration = await play_muted(row.locator("audio"))
        assert abs(duration - SECONDS) < 0.2
        assert (AuditAction.PLAY, console.user_ids["supervisor"]) in _audit(console, complaint_id)
    finally:
        await context.close()
