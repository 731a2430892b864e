"""The numbers every limit of a document is checked against, one value per limit."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """The limits of one document; the defaults are Settings' defaults (a test keeps them so)."""

    document_bytes_max: int = 50_000
    tokens_max: int = 5_000
    depth_max: int = 15
    aliases_max: int = 30
    directives_max: int = 50
    cost_max: int = 20_000
    report_cost: bool = True
