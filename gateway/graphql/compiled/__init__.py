"""Compiled reads: each validated (document, operation) is compiled once into a plan that
runs without graphql-core's per-field machinery, and answers exactly as the general executor.

Every HTTP response to a GraphQL request says which executor answered it in the
`X-MPS-Execution` header: `compiled`, or `general` (a mutation, a subscription, a field the
compiler does not cover, or a run the plan handed back). `STATS` counts both, and each
fallback's reason, per process, and the app logs them when it stops.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

EXECUTION_HEADER = "x-mps-execution"
COMPILED = "compiled"
GENERAL = "general"


@dataclass
class ExecutionStats:
    """How many operations each executor answered, and why plans handed work back."""

    compiled: int = 0
    general: int = 0
    lean: int = 0  # of the compiled: answered on the lean HTTP path (runtime.lean)
    fallbacks: Counter[str] = field(default_factory=Counter)

    def fell_back(self, reason: str) -> None:
        self.fallbacks[reason] += 1

    def summary(self) -> str:
        reasons = ", ".join(f"{reason} ({n})" for reason, n in self.fallbacks.most_common(10))
        return (
            f"{self.compiled} compiled ({self.lean} on the lean path), {self.general} general;"
            f" fallbacks: {reasons or 'none'}"
        )


STATS = ExecutionStats()
