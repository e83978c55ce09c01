"""The IVR's hand-over of a caller to a person: the contract between ivr/ and acd/.

When a flow ends in a ``Transfer`` effect, the IVR's call adapter stores the findings on
the IVR session, publishes one :class:`Handover` on the bus under :data:`HANDOVER_TOPIC`,
and ends its AGI with ``HOTLINE_NEXT`` set to the context the composition root chose
(the ACD's parking context ``hotline-wait,s,1`` when Hotline distributes calls itself,
Asterisk's queue ``hotline-agents,s,1`` otherwise). The ACD queues the call from the
hand-over; the screen pop shows its findings to the agent the call is offered to.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ivr.flows import Findings, Identity

#: The bus topic a :class:`Handover` is published under.
HANDOVER_TOPIC = "ivr.handover"


@dataclass(frozen=True, slots=True)
class Handover:
    """A caller the IVR hands to the agents, with what it learnt about them."""

    uniqueid: str  # the caller's channel (Asterisk Uniqueid), the call's key everywhere
    channel: str  # the caller's channel name, for AMI Redirect
    queue: str  # the flow's queue name (appointments, general, complaints, vip, ...)
    reason: str  # why: "caller_asked", "no_input", "no_match", "action_failed", ...
    skill: str | None
    language: str  # the language the caller chose in the IVR
    findings: Findings
    at: dt.datetime  # UTC, when the IVR let go of the call
    #: The caller ID as received (None: withheld or tampered), for the pop's likely matches.
    caller_number: str | None = None

    @property
    def patient_id(self) -> int | None:
        value = self.findings.patient_id
        return int(value) if value and value.isdigit() else None

    @property
    def verified(self) -> bool:
        return self.findings.identity is Identity.VERIFIED
