"""Domain errors of the web consoles, and the one table that maps them to HTTP.

Every error a route, dependency or service of screenpop raises on purpose derives from
:class:`WebError`; store errors (:class:`crm_store.errors.StoreError`) reaching a route
are mapped by the same table (:data:`STATUS_BY_ERROR`). Messages are shown to the user
and written to logs, so they never carry passwords or patient identifiers.

::

    WebError
    ├── NotAuthenticated        401  no session, or it expired / was ended
    ├── LoginRefused            401  wrong username or password (one answer for both)
    ├── Forbidden               403  signed in, but the role may not see this
    │   ├── NotAnAgent          403  only agents act on calls (supervisors view read-only)
    │   └── NoPatientAccess     403  only supervisors see patient data (admins manage users)
    ├── CrossOriginRefused      403  a state-changing request from another site
    ├── NotYourCall             403  the call is not one offered to this agent
    ├── NoPatientOnCall         409  the caller is not (yet) a known patient
    ├── PatientAlreadyKnown     409  registering a caller who is already a patient
    ├── NotASuggestedMatch      403  attaching a call to a patient its pop did not suggest
    ├── CallNotLive             404  no live call with this id (a supervisor's pop view)
    ├── AgentUnavailable        409  no ACD, this user is no ACD agent, or a state change
    │                                the agent's current state does not allow
    ├── TooManyAttempts         429  failed logins over the limit (Retry-After)
    ├── RecordingUnavailable    410  a recording's file is missing or damaged (reported)
    ├── VoiceMessageUnavailable 410  a complaint's voice message file is missing or damaged
    ├── RecordingControlRefused 409  pausing a recording the queue's policy keeps running,
    │                                or one that is not running
    ├── NoSupervisorPhone       409  listen/whisper/barge: no phone on the supervisor's record
    ├── InvalidMonitorRequest   422  a channel or phone that may not reach AMI
    ├── AsteriskRefused         502  Asterisk did not start the supervisor's call
    ├── MonitorUnavailable      503  no link to Asterisk: monitoring is off
    ├── InvalidPeriod           422  a report period that is malformed, backwards or too long
    └── AuditUnavailable        503  the access could not be audited, so nothing is shown

    crm_store.errors.StoreError (mapped, not raised here)
    ├── NotFound                404
    ├── BookingRefused          409  slot full or past, already booked, not cancellable
    ├── InvalidRecord           422
    ├── StoreBusy               503
    └── (others)                500
"""

from __future__ import annotations

from crm_store.errors import BookingRefused, InvalidRecord, NotFound, StoreBusy, StoreError


class WebError(Exception):
    """Base of the errors screenpop raises on purpose. ``code`` is a stable id (API
    contract: clients may switch on it); ``message_key`` names the UI text shown."""

    code = "error"
    message_key = "error_generic"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAuthenticated(WebError):
    code = "not_authenticated"
    message_key = "error_not_authenticated"

    def __init__(self, message: str = "sign in first", *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired
        if expired:
            self.message_key = "error_session_expired"


class LoginRefused(WebError):
    code = "login_refused"
    message_key = "error_login_refused"

    def __init__(self) -> None:
        super().__init__("wrong username or password")


class Forbidden(WebError):
    code = "forbidden"
    message_key = "error_forbidden"

    def __init__(self, role: str, allowed: str) -> None:
        super().__init__(f"this is for the roles: {allowed}; you are signed in as {role}")
        self.role = role
        self.allowed = allowed


class NotAnAgent(Forbidden):
    message_key = "error_agents_only"

    def __init__(self, role: str) -> None:
        super().__init__(role, "agent")
        self.message = (
            f"only agents act on calls; you are signed in as {role} (a supervisor may view "
            "a live call's pop read-only from the live calls page)"
        )
        self.args = (self.message,)


class NoPatientAccess(Forbidden):
    message_key = "error_patient_data"

    def __init__(self, role: str) -> None:
        super().__init__(role, "supervisor")
        self.message = (
            f"this shows patient data, which only supervisors may view; you are signed in as {role}"
        )
        self.args = (self.message,)


class CrossOriginRefused(WebError):
    code = "cross_origin"
    message_key = "error_cross_origin"

    def __init__(self, origin: str) -> None:
        super().__init__(
            f"refused a request sent from another site ({origin[:100]!r}); "
            "use the console's own pages"
        )


class NotYourCall(WebError):
    code = "not_your_call"
    message_key = "error_not_your_call"

    def __init__(self) -> None:
        super().__init__(
            "this call is not one offered to you; you may act only on your own calls' patients"
        )


class NoPatientOnCall(WebError):
    code = "no_patient"
    message_key = "error_no_patient"

    def __init__(self) -> None:
        super().__init__("the caller is not a registered patient yet; register them first")


class PatientAlreadyKnown(WebError):
    code = "patient_known"
    message_key = "error_patient_known"

    def __init__(self) -> None:
        super().__init__("the caller is already a registered patient")


class NotASuggestedMatch(WebError):
    code = "not_suggested"
    message_key = "error_not_suggested"

    def __init__(self) -> None:
        super().__init__(
            "that patient is not one of this call's likely matches; register the caller "
            "or search the record system"
        )


class CallNotLive(WebError):
    code = "call_not_live"
    message_key = "error_call_not_live"

    def __init__(self) -> None:
        super().__init__("no live call with this id is being offered or talked to")


class AgentUnavailable(WebError):
    code = "agent_state"
    message_key = "error_agent_state"


class TooManyAttempts(WebError):
    code = "too_many_attempts"
    message_key = "error_too_many_attempts"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            f"too many failed sign-ins; try again in {max(1, retry_after_s // 60)} min"
        )
        self.retry_after_s = retry_after_s


class RecordingUnavailable(WebError):
    code = "recording_unavailable"
    message_key = "error_recording_unavailable"

    def __init__(self, recording_id: int, status: str) -> None:
        super().__init__(
            f"recording {recording_id}: the file is {status}; it has been reported "
            "to the administrators"
        )
        self.recording_id = recording_id


class VoiceMessageUnavailable(WebError):
    code = "voice_message_unavailable"
    message_key = "error_recording_unavailable"

    def __init__(self, ticket_number: str, status: str) -> None:
        super().__init__(
            f"voice message of complaint {ticket_number}: the file is {status}; it has been "
            "reported to the administrators"
        )
        self.ticket_number = ticket_number


class RecordingControlRefused(WebError):
    code = "recording_control"
    message_key = "error_recording_control"


class NoSupervisorPhone(WebError):
    code = "no_supervisor_phone"
    message_key = "error_no_supervisor_phone"


class InvalidMonitorRequest(WebError, ValueError):
    code = "invalid_request"
    message_key = "error_invalid_monitor"


class AsteriskRefused(WebError):
    code = "asterisk_refused"
    message_key = "error_asterisk_refused"


class MonitorUnavailable(WebError):
    code = "monitor_unavailable"
    message_key = "error_monitor_unavailable"

    def __init__(self) -> None:
        super().__init__("no link to Asterisk: monitoring is off")


class InvalidPeriod(WebError):
    code = "invalid_period"
    message_key = "error_invalid_period"


class AuditUnavailable(WebError):
    code = "audit_unavailable"
    message_key = "error_audit_unavailable"

    def __init__(self) -> None:
        super().__init__(
            "the access could not be written to the audit log, so patient data is not shown; "
            "retry in a moment"
        )


#: Status codes by error class; the most specific class listed wins.
STATUS_BY_ERROR: tuple[tuple[type[Exception], int], ...] = (
    (NotAuthenticated, 401),
    (LoginRefused, 401),
    (Forbidden, 403),
    (RecordingUnavailable, 410),
    (VoiceMessageUnavailable, 410),
    (InvalidPeriod, 422),
    (CrossOriginRefused, 403),
    (NotYourCall, 403),
    (NoPatientOnCall, 409),
    (PatientAlreadyKnown, 409),
    (NotASuggestedMatch, 403),
    (CallNotLive, 404),
    (AgentUnavailable, 409),
    (RecordingControlRefused, 409),
    (NoSupervisorPhone, 409),
    (InvalidMonitorRequest, 422),
    (AsteriskRefused, 502),
    (MonitorUnavailable, 503),
    (BookingRefused, 409),
    (TooManyAttempts, 429),
    (AuditUnavailable, 503),
    (NotFound, 404),
    (InvalidRecord, 422),
    (StoreBusy, 503),
    (StoreError, 500),
    (WebError, 400),
)


def status_for(error: Exception) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return 500


def code_for(error: Exception) -> str:
    if isinstance(error, WebError):
        return error.code
    if isinstance(error, NotFound):
        return "not_found"
    if isinstance(error, InvalidRecord):
        return "invalid_record"
    if isinstance(error, BookingRefused):
        return "booking_refused"
    if isinstance(error, StoreBusy):
        return "store_busy"
    return "store_error"
