"""The shared shape of a benchmark result and the timing helper."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Result:
    name: str
    work: int            # items processed in each measured run
    unit: str            # what an item is
    seconds: float       # the measured code
    baseline_seconds: float
    baseline: str        # what the baseline does
    target: float | None = None  # the ratio we aim for, if any

    @property
    def rate(self) -> float:
        return self.work / self.seconds

    @property
    def baseline_rate(self) -> float:
        return self.work / self.baseline_seconds

    @property
    def ratio(self) -> float:
        """Our rate as a share of the baseline's rate (1.0 = as fast as the baseline)."""
        return self.baseline_seconds / self.seconds

    def line(self) -> str:
        verdict = ""
        if self.target is not None:
            verdict = f"  target ≥ {self.target:.0%}: {'met' if self.ratio >= self.target else 'NOT met'}"
        return (
            f"{self.name}: {self.rate:,.0f} {self.unit}/s; baseline ({self.baseline}) {self.baseline_rate:,.0f} {self.unit}/s;"
            f" ratio {self.ratio:.1%}{verdict}"
        )


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """The fastest of `repeat` runs, in seconds (the least disturbed by the rest of the machine)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best
