"""Recordings for supervisors, end to end: a call recorded through the real Asterisk is
searched and played (with seeking) in a real Chromium by a supervisor, every play and
download audited; an agent is refused; a missing file is reported, not played."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from crm_store.enums import AuditAction, AuditEntity, RecordingStatus
from crm_store.repositories import AuditLogRepository, RecordingRepository
from cti.asterisk import AsteriskRunner
from recordings import StoredRecording
from tests.fixtures.hotline import CallerSide
from tests.recordings.helpers import make_agent, make_service, play_muted, record_one_call
from tests.screenpop.conftest import Console
from tests.screenpop.test_browser import sign_in

pytestmark = pytest.mark.asterisk


async def _recorded(
    console: Console, caller_ami: CallerSide, asterisk: AsteriskRunner, storage: Path
) -> StoredRecording:
    agent_id = make_agent(console.database, console.user_ids["agent"])
    service = make_service(caller_ami, asterisk, console.database, storage)
    uniqueid = await record_one_call(
        caller_ami,
        asterisk,
        service,
        agent_id=agent_id,
        queue="appointments",
        patient_id=console.patients["wang"],
    )
    return await service.finish(uniqueid)


def _audit(console: Console, recording_id: int) -> list[tuple[AuditAction, int | None]]:
    with console.database.session() as session:
        entries = AuditLogRepository(session).for_entity(AuditEntity.RECORDING, recording_id)
    return [(e.action, e.user_id) for e in entries if e.user_id is not None]


async def test_supervisor_plays_and_seeks_agent_is_refused(
    browser: Browser,
    console: Console,
    caller_ami: CallerSide,
    asterisk: AsteriskRunner,
    tmp_path: Path,
) -> None:
    stored = await _recorded(console, caller_ami, asterisk, tmp_path / "storage")
    supervisor = console.user_ids["supervisor"]

    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    statuses: list[tuple[int, str | None]] = []
    page.on(
        "response",
        lambda r: (
            statuses.append((r.status, r.request.headers.get("range")))
            if "/audio" in r.url
            else None
        ),
    )
    try:
        await sign_in(page, console, "supervisor")
        await page.goto(f"{console.url}/supervisor/recordings?lang=en&mrn=MRN-1&queue=appointments")
        row = page.locator(f'#recordings tr[data-recording-id="{stored.recording_id}"]')
        await expect(row).to_be_visible()
        await expect(row.locator("td.patient")).to_have_text("王秀英 (MRN-1)")
        await expect(row.locator("td.agent")).to_have_text("Agent")
        await expect(row.locator("td.status")).to_have_text("verified")

        audio = row.locator("audio")
        duration = await play_muted(audio)
        assert abs(duration - stored.duration_s) < 0.5
        # Seek near the end: the browser asks for a byte range and plays from there.
        position = await audio.evaluate(
            "a => new Promise(r => { a.addEventListener('seeked', () => r(a.currentTime),"
            " {once: true}); a.currentTime = a.duration - 1.5; })"
        )
        assert position > stored.duration_s - 2
        assert any(status == 206 for status, _ in statuses), statuses
        assert (AuditAction.PLAY, supervisor) in _audit(console, stored.recording_id)

        download = await page.request.get(
            f"{console.url}/supervisor/recordings/{stored.recording_id}/audio?download=1"
        )
        assert download.status == 200
        assert await download.body() == stored.path.read_bytes()
        assert "attachment" in download.headers["content-disposition"]
        assert (AuditAction.EXPORT, supervisor) in _audit(console, stored.recording_id)

        # An agent: the page and the audio are refused, with the reason, and nothing audited.
        agent_context = await browser.new_context(locale="en-US")
        agent_page = await agent_context.new_page()
        await sign_in(agent_page, console, "agent")
        refused = await agent_page.goto(f"{console.url}/supervisor/recordings?lang=en")
        assert refused is not None and refused.status == 403
        await expect(agent_page.locator("main")).to_contain_text("for supervisors only")
        audio_refused = await agent_page.request.get(
            f"{console.url}/supervisor/recordings/{stored.recording_id}/audio"
        )
        assert audio_refused.status == 403
        agent = console.user_ids["agent"]
        assert all(user != agent for _, user in _audit(console, stored.recording_id))
        await agent_context.close()
    finally:
        await context.close()


async def test_an_admin_may_not_search_play_or_download_a_recording(
    console: Console, caller_ami: CallerSide, asterisk: AsteriskRunner, tmp_path: Path
) -> None:
    stored = await _recorded(console, caller_ami, asterisk, tmp_path / "storage")
    audio = f"/supervisor/recordings/{stored.recording_id}/audio"
    async with console.client(headers={"Accept-Language": "en"}) as client:
        await console.login(client, "admin")
        for path in ("/supervisor/recordings", audio, f"{audio}?download=true"):
            refused = await client.get(path)
            assert refused.status_code == 403, path
            assert "王秀英" not in refused.text and "MRN-1" not in refused.text, path
            assert not refused.headers["content-type"].startswith("audio/"), path
        api = await client.get("/api/supervisor/recordings")
        assert api.status_code == 403 and api.json()["error"] == "forbidden"
        assert "only supervisors may view" in api.json()["message"]
    admin = console.user_ids["admin"]
    assert all(user != admin for _, user in _audit(console, stored.recording_id))


async def test_ranges_are_served_and_a_missing_file_is_reported(
    console: Console, caller_ami: CallerSide, asterisk: AsteriskRunner, tmp_path: Path
) -> None:
    stored = await _recorded(console, caller_ami, asterisk, tmp_path / "storage")
    url = f"/supervisor/recordings/{stored.recording_id}/audio"
    async with console.client() as client:
        await console.login(client, "supervisor")
        plays_before = _audit(console, stored.recording_id).count(
            (AuditAction.PLAY, console.user_ids["supervisor"])
        )
        part = await client.get(url, headers={"Range": "bytes=100-199"})
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes 100-199/{stored.size_bytes}"
        assert part.content == stored.path.read_bytes()[100:200]
        # A seek within a play is not a new play.
        assert (
            _audit(console, stored.recording_id).count(
                (AuditAction.PLAY, console.user_ids["supervisor"])
            )
            == plays_before
        )

        beyond = await client.get(url, headers={"Range": f"bytes={stored.size_bytes + 10}-"})
        assert beyond.status_code == 416

        stored.path.unlink()
        gone = await client.get(url + "?lang=en")
        assert gone.status_code == 410
        assert "missing or damaged" in gone.text and "reported" in gone.text
        listing = await client.get("/api/supervisor/recordings")
        [row] = listing.json()["recordings"]
        assert row["status"] == "missing" and row["playable"] is False
    with console.database.session() as session:
        view = RecordingRepository(session).get(stored.recording_id)
    assert view is not None and view.status is RecordingStatus.MISSING
