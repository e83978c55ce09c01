"""The wallboard's view model (pure): live figures from an ACD snapshot, today's from the
call rows, what counts as today, and when the board has changed."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from acd.model import AgentState
from acd.snapshot import AcdSnapshot, HeldCall, HeldPhase
from crm_store.repositories.acd import AcdCallRecord
from screenpop.i18n import Translator
from screenpop.wallboard import build_view, day_start
from tests.acd.builders import T0, agent, at, call, queue

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")  # T0 is 16:00 there
MIDNIGHT = at(-16 * 3600)  # 00:00 in Shanghai on T0's day

GENERAL = queue("general", skill="general", language="zh", service_level_target_s=20)
VIP = queue("vip", skill="general", language="zh", service_level_target_s=10)


def snapshot(**kw: object) -> AcdSnapshot:
    fields: dict[str, object] = {
        "taken_at": T0,
        "queues": (GENERAL, VIP),
        "agents": (),
        "waiting": (),
        "held": (),
    }
    fields.update(kw)
    return AcdSnapshot(**fields)  # type: ignore[arg-type]


def row(
    key: str,
    *,
    queued: float,
    waited: float | None = None,
    abandoned_after: float | None = None,
    by: str | None = None,
    queue_name: str = "general",
) -> AcdCallRecord:
    """A call row: queued at ``at(queued)``, answered ``waited`` s later by ``by`` or
    abandoned ``abandoned_after`` s later."""
    answered_at = None if waited is None else at(queued + waited)
    ended_at = None if abandoned_after is None else at(queued + abandoned_after)
    return AcdCallRecord(
        call_key=key,
        queue=queue_name,
        priority="normal",
        patient_id=None,
        queued_at=at(queued),
        offers=1 if waited is not None else 0,
        offered_to=by,
        answered_by=by,
        answered_at=answered_at,
        wait_s=waited if waited is not None else abandoned_after,
        abandoned=abandoned_after is not None,
        ended_at=ended_at,
    )


def test_midnight_is_the_hospitals_not_utcs() -> None:
    assert day_start(T0, SHANGHAI) == MIDNIGHT
    assert day_start(MIDNIGHT - dt.timedelta(microseconds=1), SHANGHAI) == at(-40 * 3600)


def test_waiting_callers_give_the_count_and_the_longest_wait() -> None:
    live = snapshot(
        waiting=(
            call("c2", arrived=-5, queue_name="general", skill="general"),
            call("c1", arrived=-25, queue_name="general", skill="general"),
            call("c3", arrived=-3, queue_name="vip", skill="general"),
        )
    )
    view = build_view(live, [], zone=SHANGHAI, now=T0)
    general, vip = view.queue("general"), view.queue("vip")
    assert (general.waiting, general.longest_waiting_since) == (2, at(-25))
    assert general.longest_wait_s(T0) == 25
    assert general.wait_over_target(T0)  # 25 s > 20 s
    assert (vip.waiting, vip.longest_wait_s(T0)) == (1, 3)
    assert not vip.wait_over_target(T0)
    assert not vip.wait_over_target(at(7))  # exactly the target is still within it
    assert vip.wait_over_target(at(7.5))


def test_an_empty_queue_has_no_longest_wait() -> None:
    tile = build_view(snapshot(), [], zone=SHANGHAI, now=T0).queue("general")
    assert (tile.waiting, tile.longest_waiting_since, tile.longest_wait_s(T0)) == (0, None, 0)
    assert not tile.wait_over_target(T0)
    assert tile.service_level is None and not tile.service_level_low


def test_service_level_is_answered_within_target_over_calls_that_finished_waiting() -> None:
    rows = [
        row("a", queued=-600, waited=8, by="li"),
        row("b", queued=-500, waited=20, by="li"),  # exactly the target: within
        row("c", queued=-400, waited=45, by="zhang"),
        row("d", queued=-300, abandoned_after=12),
        row("e", queued=-30),  # still waiting: not counted yet
        row("f", queued=-200, waited=5, by="li", queue_name="vip"),
    ]
    view = build_view(snapshot(), rows, zone=SHANGHAI, now=T0)
    general = view.queue("general")
    assert (general.answered_today, general.answered_within_target) == (3, 2)
    assert general.abandoned_today == 1
    assert general.service_level == 2 / 4
    assert general.service_level_low  # 50 % < the 80 % goal
    vip = view.queue("vip")
    assert (vip.answered_today, vip.service_level, vip.service_level_low) == (1, 1.0, False)


def test_yesterdays_calls_do_not_count_today() -> None:
    before_midnight = (MIDNIGHT - T0).total_seconds() - 60
    rows = [
        row("old", queued=before_midnight, waited=120, by="li"),  # answered after midnight
        row("old-gone", queued=before_midnight, abandoned_after=30),
        row("new", queued=-60, waited=50, by="li"),
    ]
    view = build_view(
        snapshot(agents=(agent("li", skills={"general": 3}),)), rows, zone=SHANGHAI, now=T0
    )
    general = view.queue("general")
    assert (general.answered_today, general.abandoned_today) == (1, 0)
    assert general.service_level == 0.0
    # The agent handled both calls they answered today, whenever the caller queued.
    assert view.agent("li").handled_today == 2


def test_available_agents_are_those_free_who_may_take_the_queues_calls() -> None:
    agents = (
        agent("li", skills={"general": 3}),
        agent("en-only", skills={"general": 3}, languages={"en": 5}),
        agent("zhang", skills={"general": 3}, state=AgentState.ON_CALL, current_call_id="x"),
        agent("wu", skills={"general": 3}, state=AgentState.LOGGED_OUT),
        agent("zhao", skills={"billing": 3}),
    )
    tile = build_view(snapshot(agents=agents), [], zone=SHANGHAI, now=T0).queue("general")
    assert (tile.agents_available, tile.agents_staffed) == (1, 2)


def test_agents_show_state_since_and_pause_reason_only_while_paused() -> None:
    agents = (
        agent("li", state=AgentState.PAUSED, pause_reason="lunch", idle_since=-90),
        agent("zhang", state=AgentState.AVAILABLE, pause_reason="stale", idle_since=-5),
    )
    view = build_view(snapshot(agents=agents), [], zone=SHANGHAI, now=T0)
    li, zhang = view.agent("li"), view.agent("zhang")
    assert (li.state, li.since, li.pause_reason) == (AgentState.PAUSED, at(-90), "lunch")
    assert (zhang.state, zhang.pause_reason) == (AgentState.AVAILABLE, None)


def test_calls_in_progress_come_from_what_agents_hold() -> None:
    held = (
        HeldCall("c9", "vip", "li", HeldPhase.TALKING, enqueued_at=at(-80), since=at(-60)),
        HeldCall("c8", "general", "zhang", HeldPhase.RINGING, enqueued_at=at(-9), since=at(-2)),
    )
    view = build_view(snapshot(held=held), [], zone=SHANGHAI, now=T0)
    assert [(c.call_id, c.queue, c.agent_id, c.phase, c.since) for c in view.calls] == [
        ("c9", "vip", "li", HeldPhase.TALKING, at(-60)),
        ("c8", "general", "zhang", HeldPhase.RINGING, at(-2)),
    ]


def test_the_board_is_unchanged_while_only_time_passes() -> None:
    live = snapshot(
        waiting=(call("c1", arrived=-25, queue_name="general", skill="general"),),
        agents=(agent("li", skills={"general": 3}, state=AgentState.PAUSED, pause_reason="x"),),
    )
    rows = [row("a", queued=-600, waited=8, by="li")]
    first = build_view(live, rows, zone=SHANGHAI, now=T0)
    assert build_view(live, rows, zone=SHANGHAI, now=at(30)) == first
    # A new row, or a caller leaving, changes it.
    assert build_view(live, [*rows, row("b", queued=-9)], zone=SHANGHAI, now=T0) == first
    assert (
        build_view(live, [*rows, row("b", queued=-9, abandoned_after=3)], zone=SHANGHAI, now=T0)
        != first
    )
    assert build_view(snapshot(agents=live.agents), rows, zone=SHANGHAI, now=T0) != first
    # So does midnight: the day's figures start again.
    assert build_view(live, rows, zone=SHANGHAI, now=at(9 * 3600)) != first


def test_without_the_acd_the_board_says_it_has_no_live_figures() -> None:
    view = build_view(None, [row("a", queued=-60, waited=5, by="li")], zone=SHANGHAI, now=T0)
    assert not view.acd_running
    assert view.queues == view.agents == view.calls == ()


def test_wire_form_has_moments_for_the_browser_clocks_and_text_in_chinese() -> None:
    live = snapshot(
        waiting=(call("c1", arrived=-25, queue_name="general", skill="general"),),
        agents=(agent("li", state=AgentState.PAUSED, pause_reason="lunch", idle_since=-90),),
        held=(HeldCall("c9", "vip", "li", HeldPhase.TALKING, enqueued_at=at(-80), since=at(-60)),),
    )
    rows = [row("a", queued=-600, waited=8, by="li"), row("d", queued=-300, abandoned_after=12)]
    wire = build_view(live, rows, zone=SHANGHAI, now=T0).to_json(Translator("zh"))
    general = wire["queues"][0]
    assert general["longest_since"] == "2025-03-03T07:59:35+00:00"
    assert (general["waiting"], general["target_s"]) == (1, 20)
    assert (general["service_level_text"], general["service_level_low"]) == ("50%", True)
    assert wire["agents"][0] == {
        "id": "li",
        "state": "paused",
        "state_label": "暂停",
        "since": "2025-03-03T07:58:30+00:00",
        "pause_reason": "lunch",
        "handled": 1,
    }
    assert wire["calls"][0]["phase_label"] == "通话中"
    assert wire["calls"][0]["since"] == "2025-03-03T07:59:00+00:00"
