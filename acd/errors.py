"""Errors of the ACD core.

Messages name the agent, call or queue concerned and say what to do next; they never
carry patient identifiers (the ACD only knows opaque ids).

::

    AcdError
    ├── InvalidAgentTransition   the action is not allowed in the agent's current state
    ├── StaleEvent               a timer or event refers to a call the agent no longer holds
    │                            (a late ring/wrap-up timer: safe to ignore)
    ├── InvalidModel             a value outside its range (level not 1-5, naive datetime…)
    ├── CallNotWaiting           a question about a call that is not waiting in that queue
    ├── UnknownAgent             the ACD service has no agent of that id
    ├── UnsafeDialValue          a channel, id or dial string that may not go into an AMI action
    └── ConfigurationError       queue configuration that cannot work
        ├── UnknownQueue         a call or an overflow rule names a queue that does not exist
        └── OverflowLoop         overflow rules that send callers round in a circle
"""

from __future__ import annotations


class AcdError(Exception):
    """Base of every error raised by acd."""


class InvalidAgentTransition(AcdError):
    """An agent action that the agent's state does not allow."""

    def __init__(self, agent_id: str, action: str, state: str, hint: str) -> None:
        super().__init__(f"agent {agent_id} cannot {action} while {state}: {hint}")
        self.agent_id = agent_id
        self.action = action
        self.state = state
        self.hint = hint


class StaleEvent(AcdError):
    """A timer or event about a call the agent is not (or no longer) handling."""

    def __init__(self, agent_id: str, event: str, call_id: str, held: str | None) -> None:
        holding = f"holds call {held}" if held is not None else "holds no call"
        super().__init__(
            f"{event} for call {call_id} does not apply to agent {agent_id}, who {holding}; "
            "it is a late timer or a duplicated event and can be ignored"
        )
        self.agent_id = agent_id
        self.event = event
        self.call_id = call_id
        self.held = held


class InvalidModel(AcdError, ValueError):
    """A model value out of range; the message says which field and what is allowed."""


class CallNotWaiting(AcdError):
    def __init__(self, call_id: str, queue: str) -> None:
        super().__init__(
            f"call {call_id} is not waiting in queue {queue!r}; it was served, moved or "
            "abandoned — ask about a call that is waiting"
        )
        self.call_id = call_id
        self.queue = queue


class UnknownAgent(AcdError):
    def __init__(self, agent_id: str) -> None:
        super().__init__(
            f"no agent {agent_id!r} is configured for call distribution; "
            "add the agent (with a phone) or check the login"
        )
        self.agent_id = agent_id


class UnsafeDialValue(AcdError, ValueError):
    """A channel name, call id or dial string unfit for an AMI action (it could carry
    another header or dialplan argument)."""

    def __init__(self, what: str, value: str) -> None:
        super().__init__(f"{what} {value!r} is not a plain channel/id; refusing to dial with it")
        self.what = what
        self.value = value


class ConfigurationError(AcdError):
    """Queue configuration that cannot work."""


class UnknownQueue(ConfigurationError):
    def __init__(self, name: str, where: str) -> None:
        super().__init__(
            f"{where} names queue {name!r}, which is not configured; "
            "add the queue or correct the name"
        )
        self.name = name


class OverflowLoop(ConfigurationError):
    def __init__(self, cycle: list[str]) -> None:
        path = " → ".join([*cycle, cycle[0]])
        super().__init__(
            f"overflow rules send callers round in a circle ({path}); "
            "end one of these chains with a message or a queue that does not overflow"
        )
        self.cycle = tuple(cycle)
