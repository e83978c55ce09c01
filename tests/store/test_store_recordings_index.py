"""The recordings index on SQLite and PostgreSQL: found by the agent's disposition, and
linked to its call record and agent."""

from __future__ import annotations

import datetime as dt

from crm_store.database import Database
from crm_store.enums import CallDisposition, RecordingStatus, Role
from crm_store.repositories import NewRecording, RecordingRepository, RecordingSearch
from crm_store.repositories.acd import AcdRepository
from crm_store.repositories.calls import CallRepository
from crm_store.repositories.users import UserRepository
from tests.store.test_store_repositories import make_call

T0 = dt.datetime(2030, 1, 7, 2, 0, tzinfo=dt.UTC)


def _recording(uniqueid: str) -> NewRecording:
    return NewRecording(
        path=f"/srv/recordings/{uniqueid}.wav",
        duration_s=30.0,
        size_bytes=480_044,
        checksum_sha256="ab" * 32,
        started_at=T0,
        retain_until=T0 + dt.timedelta(days=365),
        status=RecordingStatus.VERIFIED,
        checked_at=T0,
        queue="patients",
        channel_uniqueid=uniqueid,
    )


def test_recordings_are_found_by_the_agents_disposition_on_the_call(database: Database) -> None:
    with database.session() as session:
        acd = AcdRepository(session)
        recordings = RecordingRepository(session)
        for call, disposition in (("1.1", CallDisposition.BOOKED), ("1.2", None)):
            acd.call_queued(call, queue="patients", priority="normal", patient_id=None, at=T0)
            if disposition is not None:
                acd.wrap_up(call, agent_key="li", disposition=disposition, notes=None, at=T0)
            recordings.add(_recording(call))
    with database.session() as session:
        recordings = RecordingRepository(session)
        booked = recordings.search(RecordingSearch(disposition="booked"))
        complaint = recordings.search(RecordingSearch(disposition="complaint"))
        everything = recordings.search(RecordingSearch())
    assert [(r.recording.channel_uniqueid, r.disposition) for r in booked] == [("1.1", "booked")]
    assert complaint == []
    assert sorted((r.recording.channel_uniqueid, r.disposition) for r in everything) == [
        ("1.1", "booked"),
        ("1.2", None),
    ]


def test_a_recording_links_to_its_call_by_linkedid_and_agent_by_username(
    database: Database,
) -> None:
    with database.session() as session:
        users = UserRepository(session)
        user = users.create(
            username="li", display_name="Agent Li", role=Role.AGENT, password="a long password"
        )
        agent_id = users.add_agent(user, extension="3001")
        CallRepository(session).save(make_call("1795.7"))
    with database.session() as session:
        links = RecordingRepository(session).links(linkedid="1795.7", agent_username="li")
        unknown = RecordingRepository(session).links(linkedid="9.9", agent_username="nobody")
    assert links.agent_id == agent_id and links.call_id is not None
    assert (unknown.call_id, unknown.agent_id) == (None, None)
