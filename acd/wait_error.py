"""How wrong the expected wait callers were told turned out to be. Pure.

Each told estimate is paired with the wait the caller then had (from the moment they were
told until an agent was offered their call). The report gives the mean absolute error
(how far off, on average) and the bias (positive: callers waited longer than told).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WaitErrorReport:
    calls: int
    mean_absolute_error_s: float
    bias_s: float  # mean of (actual - told)

    def describe(self) -> str:
        if self.calls == 0:
            return "expected-wait error: no told estimate was followed by an offer"
        return (
            f"expected-wait error over {self.calls} calls: mean absolute error "
            f"{self.mean_absolute_error_s:.1f} s, bias {self.bias_s:+.1f} s"
        )


def wait_error(pairs: Iterable[tuple[float, float]]) -> WaitErrorReport:
    """The error of ``(told_s, actual_s)`` pairs."""
    n = 0
    abs_sum = 0.0
    signed_sum = 0.0
    for told, actual in pairs:
        n += 1
        abs_sum += abs(actual - told)
        signed_sum += actual - told
    if n == 0:
        return WaitErrorReport(0, 0.0, 0.0)
    return WaitErrorReport(n, abs_sum / n, signed_sum / n)


__all__ = ["WaitErrorReport", "wait_error"]
