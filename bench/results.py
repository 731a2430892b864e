"""What the bench measures and reports: per scenario, the gateway and its baselines.

Every figure is kept per run; reports show medians (of 3 runs in the full profile). A ratio
is the gateway's median divided by the baseline's median, measured in the same bench run.
A server's resident memory is read after each of its runs (bench/machine.py: `rss_kib`); the
reports show the largest reading. Targets are ratios to a baseline (`Target`) or a bound on the
gateway's median p99 latency (`LatencyTarget`); a missed one is reported, never a failure. A
baseline marked `diagnostic` is reported with its ratio but carries no target: it explains a
figure (what a design costs), it is not a limit to reach.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Measurement:
    """One server's figures in one scenario."""

    server: str
    unit: str  # "requests/s", "transfers/s", "events/s"
    rates: list[float] = field(default_factory=list)
    p50_ms: list[float] = field(default_factory=list)
    p99_ms: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)  # after each run: process and children
    details: dict[str, Any] = field(default_factory=dict)  # counts, statements, settings
    diagnostic: bool = False  # a baseline that explains, not one to reach (no target)

    @property
    def rate(self) -> float:
        return statistics.median(self.rates) if self.rates else 0.0

    @property
    def p50(self) -> float | None:
        return statistics.median(self.p50_ms) if self.p50_ms else None

    @property
    def p99(self) -> float | None:
        return statistics.median(self.p99_ms) if self.p99_ms else None

    @property
    def rss_mib(self) -> float | None:
        return max(self.rss_kib) / 1024 if self.rss_kib else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "unit": self.unit,
            "median": self.rate,
            "runs": self.rates,
            "p50_ms": self.p50,
            "p99_ms": self.p99,
            "p50_ms_runs": self.p50_ms,
            "p99_ms_runs": self.p99_ms,
            "rss_mib": self.rss_mib,
            "rss_kib_runs": self.rss_kib,
            "diagnostic": self.diagnostic,
            **self.details,
        }


@dataclass(frozen=True, slots=True)
class Target:
    """The gateway should reach at least `ratio` times `baseline`."""

    baseline: str
    ratio: float


@dataclass(frozen=True, slots=True)
class LatencyTarget:
    """The gateway's median p99 latency should be at most `p99_ms_max` milliseconds."""

    p99_ms_max: float


Goal = Target | LatencyTarget


@dataclass(frozen=True, slots=True)
class Check:
    """A correctness check of a scenario (same data, ledger invariants, order of events)."""

    name: str
    passed: bool
    detail: str = ""


@dataclass
class ScenarioResult:
    key: str
    title: str
    gateway: Measurement
    baselines: list[Measurement]
    goals: tuple[Goal, ...]  # the first ratio target is the scenario's headline (its chart bar)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # The gateway's X-MPS-Execution header on one request before the load (reads only):
    # "compiled", "general", or "missing" when the response had none.
    executor: str | None = None

    def baseline(self, server: str) -> Measurement:
        return next(m for m in self.baselines if m.server == server)

    def ratio(self, server: str) -> float | None:
        base = self.baseline(server).rate
        return self.gateway.rate / base if base else None

    @property
    def targets(self) -> tuple[Target, ...]:
        """The ratio targets."""
        return tuple(goal for goal in self.goals if isinstance(goal, Target))

    @property
    def latency_targets(self) -> tuple[LatencyTarget, ...]:
        return tuple(goal for goal in self.goals if isinstance(goal, LatencyTarget))

    @property
    def target(self) -> Target:
        return self.targets[0]

    def target_for(self, server: str) -> Target | None:
        return next((t for t in self.targets if t.baseline == server), None)

    def met(self, target: Goal) -> bool:
        if isinstance(target, LatencyTarget):
            p99 = self.gateway.p99
            return p99 is not None and p99 <= target.p99_ms_max
        ratio = self.ratio(target.baseline)
        return ratio is not None and ratio >= target.ratio

    @property
    def target_ratio(self) -> float | None:
        return self.ratio(self.target.baseline)

    @property
    def target_met(self) -> bool:
        return self.met(self.target)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "gateway": self.gateway.as_dict(),
            "baselines": [m.as_dict() for m in self.baselines],
            "ratios": {m.server: self.ratio(m.server) for m in self.baselines},
            "targets": [
                {
                    "baseline": t.baseline,
                    "ratio": t.ratio,
                    "measured": self.ratio(t.baseline),
                    "met": self.met(t),
                }
                for t in self.targets
            ],
            "latency_targets": [
                {
                    "p99_ms_max": t.p99_ms_max,
                    "measured_p99_ms": self.gateway.p99,
                    "met": self.met(t),
                }
                for t in self.latency_targets
            ],
            "executor": self.executor,
            "checks": [
                {"name": c.name, "passed": c.passed, "detail": c.detail} for c in self.checks
            ],
            "notes": self.notes,
        }
