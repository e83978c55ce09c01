"""The waiting room's heartbeat decisions (pure)."""

from __future__ import annotations

import datetime as dt

import pytest

from acd.errors import InvalidModel
from acd.wait_deadline import WaitDeadlinePolicy, deadline_due, deadline_value

T0 = dt.datetime(2026, 11, 29, 5, 0, tzinfo=dt.UTC)


def test_deadline_is_pushed_every_interval_after_arrival_or_the_last_push():
    policy = WaitDeadlinePolicy(every_s=30, grace_s=60)
    assert not deadline_due(policy, T0 + dt.timedelta(seconds=29), T0)
    assert deadline_due(policy, T0 + dt.timedelta(seconds=30), T0)


def test_pushed_deadline_is_the_grace_after_now_in_whole_epoch_seconds():
    policy = WaitDeadlinePolicy(every_s=30, grace_s=60)
    now = T0 + dt.timedelta(milliseconds=200)
    assert deadline_value(policy, now) == str(int(T0.timestamp()) + 61)


def test_grace_shorter_than_the_heartbeat_is_refused():
    with pytest.raises(InvalidModel, match="grace_s > every_s"):
        WaitDeadlinePolicy(every_s=30, grace_s=30)
