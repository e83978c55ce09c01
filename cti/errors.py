"""Errors of the CTI core.

::

    CtiError
    ├── AmiError
    │   ├── AmiNotConnected      the AMI link is down; the action was not sent
    │   ├── AmiDisconnected      the link dropped before the action was answered
    │   ├── AmiTimeout           Asterisk did not answer in time
    │   ├── AmiActionFailed      Asterisk answered "Error" (message says why)
    │   └── UnsafeAmiValue       a value would inject headers into an AMI action
    └── AgiError
        ├── AgiProtocolError     Asterisk (or something pretending) sent malformed AGI
        ├── AgiHangup            the channel hung up while the app was running
        ├── AgiCommandFailed     a command returned an error code
        └── UnsafeAgiValue       a value would inject into an AGI command line
"""

from __future__ import annotations


class CtiError(Exception):
    """Base of the CTI core's errors."""


class AmiError(CtiError):
    pass


class AmiNotConnected(AmiError):
    pass


class AmiDisconnected(AmiError):
    pass


class AmiTimeout(AmiError):
    pass


class AmiActionFailed(AmiError):
    def __init__(self, action: str, message: str) -> None:
        super().__init__(f"Asterisk refused AMI action {action}: {message or 'no reason given'}")
        self.action = action
        self.reason = message


class UnsafeAmiValue(AmiError, ValueError):
    pass


class AgiError(CtiError):
    pass


class AgiProtocolError(AgiError):
    pass


class AgiHangup(AgiError):
    pass


class AgiCommandFailed(AgiError):
    def __init__(self, command: str, code: int, message: str) -> None:
        super().__init__(f"AGI command {command!r} failed with {code}: {message}")
        self.command = command
        self.code = code


class UnsafeAgiValue(AgiError, ValueError):
    pass
