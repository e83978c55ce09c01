"""The waiting room's heartbeat: while Hotline runs, a waiting caller's deadline moves on.

``[hotline-wait]`` sends a caller to Asterisk's fallback queue once ``HOTLINE_WAIT_UNTIL``
(epoch seconds) has passed. That deadline is there for when Hotline is gone, not to cut
long waits short — how long a caller may wait in a queue is the overflow rules' job
(:func:`acd.routing.overflow`). So every ``every_s`` (the first time ``every_s`` after
the caller arrived; ``HOTLINE_WAIT_MAX_S`` must be longer) the ACD sets the deadline of each
caller still in the waiting room to ``now + grace_s``: if Hotline stops, its callers reach
the fallback queue at most ``grace_s`` later. Pure.

Hotline's clock and Asterisk's must agree (NTP) to within a small part of ``grace_s``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from acd.errors import InvalidModel

#: The channel variable ``[hotline-wait]`` checks (dialplans/hotline.conf).
DEADLINE_VARIABLE = "HOTLINE_WAIT_UNTIL"


@dataclass(frozen=True, slots=True)
class WaitDeadlinePolicy:
    """How often the deadline is pushed forward, and how far (``grace_s`` after now)."""

    every_s: float = 30.0
    grace_s: float = 60.0

    def __post_init__(self) -> None:
        if self.every_s <= 0 or self.grace_s <= self.every_s:
            raise InvalidModel(
                "the wait deadline needs every_s > 0 and grace_s > every_s (otherwise a "
                f"caller reaches the fallback between two heartbeats): got every_s="
                f"{self.every_s}, grace_s={self.grace_s}"
            )


def deadline_due(policy: WaitDeadlinePolicy, now: dt.datetime, since: dt.datetime) -> bool:
    """Whether a caller's deadline should be pushed now: ``every_s`` after their arrival
    (until then ``HOTLINE_WAIT_MAX_S`` holds) or after the last push."""
    return (now - since).total_seconds() >= policy.every_s


def deadline_value(policy: WaitDeadlinePolicy, now: dt.datetime) -> str:
    """``HOTLINE_WAIT_UNTIL`` as the dialplan compares it: whole epoch seconds."""
    return str(math.ceil(now.timestamp() + policy.grace_s))
