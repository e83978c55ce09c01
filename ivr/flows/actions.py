"""The actions a flow may call, with the parameters they take, the outcomes they report
and the values they hand back.

This table is the contract between flow files, the engine and the adapter: the checker
refuses a flow that calls an unknown action, passes an unknown parameter or routes an
outcome the action never reports; the engine keeps only the declared values of an
:class:`~ivr.flows.engine.ActionResult`; the adapter implements every action that is not
``internal`` (the engine itself carries out ``set_language``, ``transfer`` and ``hangup``).

Values are strings. An action that hands back something a prompt says (a date, a ticket
number) gives it already speakable in the session's language (``*_text`` values, made with
:mod:`ivr.speech_text`); the raw value beside it is for later actions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: How many offered times / upcoming appointments an action reads out at most.
MAX_OFFERS = 3


def _numbered(prefix: str, *names: str) -> frozenset[str]:
    """``offer_1_id``, ``offer_2_id``, … for each name."""
    return frozenset(f"{prefix}_{i}_{name}" for name in names for i in range(1, MAX_OFFERS + 1))


@dataclass(frozen=True, slots=True)
class ActionSpec:
    name: str
    #: Parameter name → allowed literal values (empty: any text, placeholders allowed).
    params: Mapping[str, frozenset[str]]
    required: frozenset[str]
    outcomes: frozenset[str]
    provides: frozenset[str] = frozenset()
    #: Reads or changes a patient's own record: runs only once identity is verified.
    personal: bool = False
    #: Personal only for these literal parameter values (e.g. lookup what=appointments).
    personal_when: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: Changes a booking: may be entered only from a choice the caller made (a "yes").
    needs_confirmation: bool = False
    #: Carried out by the engine itself, never sent to the adapter.
    internal: bool = False

    def is_personal(self, params: Mapping[str, str]) -> bool:
        if self.personal:
            return True
        return any(params.get(name, "") in values for name, values in self.personal_when.items())


_ANY: frozenset[str] = frozenset()
#: crm_store.enums.ComplaintCategory values.
COMPLAINT_CATEGORIES = frozenset(
    {"service", "waiting_time", "staff_attitude", "medical_care", "billing", "facilities", "other"}
)

ACTIONS: Mapping[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        ActionSpec(
            "lookup",
            params={"what": frozenset({"patient", "appointments"})},
            required=frozenset({"what"}),
            outcomes=frozenset({"found", "not_found", "failed"}),
            provides=frozenset(
                {"patient_id", "patient_name", "appointment_count", "appointments_text"}
            )
            | _numbered("appointment", "reference", "text", "department"),
            personal_when={"what": frozenset({"appointments"})},
        ),
        ActionSpec(
            "verify_identity",
            params={"method": frozenset({"dob", "mrn", "mrn_dob"}), "value": _ANY, "mrn": _ANY},
            required=frozenset({"method", "value"}),
            outcomes=frozenset({"verified", "failed"}),
            provides=frozenset({"patient_id", "patient_name"}),
        ),
        ActionSpec(
            "list_free_slots",
            params={"department": _ANY, "doctor": _ANY, "day": _ANY},
            required=frozenset({"department", "day"}),
            outcomes=frozenset({"found", "none", "failed"}),
            provides=frozenset({"offer_count", "offers_text", "department_name", "day_text"})
            | _numbered("offer", "id", "text"),
        ),
        ActionSpec(
            "book",
            params={"slot_id": _ANY},
            required=frozenset({"slot_id"}),
            outcomes=frozenset({"booked", "taken", "failed"}),
            provides=frozenset({"reference", "reference_text", "booked_text"}),
            personal=True,
            needs_confirmation=True,
        ),
        ActionSpec(
            "cancel",
            params={"reference": _ANY},
            required=frozenset({"reference"}),
            outcomes=frozenset({"cancelled", "not_found", "failed"}),
            provides=frozenset({"cancelled_text"}),
            personal=True,
            needs_confirmation=True,
        ),
        ActionSpec(
            "reschedule",
            params={"reference": _ANY, "slot_id": _ANY},
            required=frozenset({"reference", "slot_id"}),
            outcomes=frozenset({"rescheduled", "taken", "not_found", "failed"}),
            provides=frozenset({"reference", "reference_text", "booked_text"}),
            personal=True,
            needs_confirmation=True,
        ),
        ActionSpec(
            "open_complaint",
            params={
                "category": COMPLAINT_CATEGORIES,
                "description": _ANY,
                "department": _ANY,
                "voice_message": _ANY,  # the recording's file, when the caller left one
                "voice_message_s": _ANY,
            },
            required=frozenset({"category", "description"}),
            outcomes=frozenset({"opened", "failed"}),
            provides=frozenset({"ticket_number", "ticket_number_text"}),
            needs_confirmation=True,
        ),
        ActionSpec(
            "complaint_status",
            params={"ticket": _ANY},
            required=frozenset({"ticket"}),
            outcomes=frozenset({"found", "not_found", "failed"}),
            provides=frozenset({"complaint_status_text"}),
        ),
        ActionSpec(
            "hospital_info",
            params={
                "topic": frozenset({"departments", "opening_hours", "doctor_days"}),
                "department": _ANY,
                "doctor": _ANY,
            },
            required=frozenset({"topic"}),
            outcomes=frozenset({"found", "not_found", "failed"}),
            provides=frozenset({"info_text"}),
        ),
        ActionSpec(
            "set_language",
            params={"language": _ANY, "goto": _ANY},
            required=frozenset({"language", "goto"}),
            outcomes=frozenset(),
            internal=True,
        ),
        ActionSpec(
            "transfer",
            params={"queue": _ANY, "reason": _ANY, "skill": _ANY},
            required=frozenset({"reason"}),
            outcomes=frozenset(),
            internal=True,
        ),
        ActionSpec(
            "hangup",
            params={"reason": _ANY},
            required=frozenset(),
            outcomes=frozenset(),
            internal=True,
        ),
    )
}

#: Values every session has from the start (CallStarted), usable in any prompt.
BUILTIN_VALUES = frozenset({"hospital", "patient_name", "patient_id", "caller_number"})
