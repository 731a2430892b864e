"""The bench's output: a markdown table, a JSON file and a PNG chart of the ratios.

Written to the results folder (bench/results/ unless `--results` says otherwise):
`results.json` (everything, per run), `results.md` (the tables: rates, latencies, executor,
SQL statements, resident memory, checks), `results.png` (the ratios to each target's
baseline, the targets drawn as lines).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.results import Measurement, ScenarioResult

CHART_NAME = "results.png"


def _number(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _latency(m: Measurement) -> str:
    if m.p50 is None:
        return "-"
    return f"{_number(m.p50, 1)} / {_number(m.p99, 1)}"


def _rows(result: ScenarioResult) -> list[str]:
    rows = []
    for index, base in enumerate(result.baselines):
        first = index == 0
        gateway = f"{_number(result.gateway.rate)} {result.gateway.unit}" if first else ""
        latency = _latency(result.gateway) if first else ""
        executor = (result.executor or "-") if first else ""
        title = result.title if first else ""
        ratio = result.ratio(base.server)
        target = result.target_for(base.server)
        wanted = f">= {target.ratio}x" if target else ("diagnostic" if base.diagnostic else "")
        met = ("yes" if result.met(target) else "**no**") if target else ""
        name = f"{base.server} (diagnostic)" if base.diagnostic else base.server
        rows.append(
            f"| {title} | {gateway} | {latency} | {executor} | {name} |"
            f" {_number(base.rate)} | {_latency(base)} | {_number(ratio, 2)}x | {wanted} | {met} |"
        )
    for bound in result.latency_targets:
        met = "yes" if result.met(bound) else "**no**"
        wanted = f"p99 <= {bound.p99_ms_max:g} ms"
        rows.append(f"|  |  |  |  | gateway p99 latency |  |  |  | {wanted} | {met} |")
    return rows


def _memory_table(results: list[ScenarioResult]) -> list[str]:
    lines = ["| Scenario | Server | Resident memory after its runs (MiB) |", "|---|---|---:|"]
    for result in results:
        for m in [result.gateway, *result.baselines]:
            if m.rss_mib is not None:
                lines.append(f"| {result.title} | {m.server} | {_number(m.rss_mib, 1)} |")
    return lines if len(lines) > 2 else []


def _statements_table(statements: dict[str, Any]) -> list[str]:
    if "unavailable" in statements:
        return [f"SQL statements per request: not counted ({statements['unavailable']})."]
    lines = [
        "| Server | Operation | Statements per request | Of which queries |",
        "|---|---|---:|---:|",
    ]
    servers = [name for name in statements if name != "log"]
    if not servers:  # none of the selected scenarios counts statements
        return []
    for server in servers:
        for operation, counted in statements.get(server, {}).items():
            lines.append(
                f"| {server} | {operation} | {_number(counted['statements_per_request'], 1)} |"
                f" {_number(counted['queries_per_request'], 1)} |"
            )
    return lines


def _checks(results: list[ScenarioResult]) -> list[str]:
    lines = []
    for result in results:
        passed = sum(check.passed for check in result.checks)
        failed = [check for check in result.checks if not check.passed]
        lines.append(f"- {result.title}: {passed}/{len(result.checks)} checks passed")
        lines += [f"  - FAILED {check.name}: {check.detail}" for check in failed]
    return lines


def markdown(document: dict[str, Any], results: list[ScenarioResult]) -> str:
    machine = document["machine"]
    lines = [
        f"Profile: {document['profile']['name']} ({document['profile']['runs']} run(s) of"
        f" {document['profile']['duration_s']} s per measurement; medians). Machine:"
        f" {machine['cpu']}, {machine['cores']} cores; Python {machine['python']},"
        f" PostgreSQL {machine['postgresql']}, SQLite {machine['sqlite']}, Node"
        f" {machine['node']}, PostGraphile {machine['postgraphile']}; commit {machine['commit']}."
        f" Load average (1 min) before / after: {machine['load_average_before'][0]:.2f} /"
        f" {machine['load_average_after'][0]:.2f}.",
        "",
        "| Scenario | Gateway | p50 / p99 ms | Executor | Baseline | Baseline rate | p50 / p99 ms"
        " | Ratio | Target | Met |",
        "|---|---:|---:|---|---|---:|---:|---:|---:|---|",
    ]
    for result in results:
        lines += _rows(result)
    lines += [
        "",
        "Executor: the gateway's `X-MPS-Execution` header on one request before the load"
        " (`compiled`, `general`, or `missing`); `-` for a scenario that is not a read."
        " A diagnostic baseline (the gateway's own transaction replayed without Python) has no"
        " target: it tells what the design costs, the minimal baseline what is possible.",
        "",
        *_statements_table(document["sql_statements"]),
        "",
        *_memory_table(results),
        "",
        "Checks:",
        *_checks(results),
    ]
    return "\n".join(lines) + "\n"


def chart(results: list[ScenarioResult], path: Path) -> None:
    """One bar per target: the gateway's ratio to that target's baseline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bars = [(r, t) for r in results for t in r.targets]
    labels = [f"{r.title}\nvs {t.baseline}" for r, t in bars]
    ratios = [r.ratio(t.baseline) or 0.0 for r, t in bars]
    figure, axis = plt.subplots(figsize=(10, 0.9 * len(bars) + 1.5))
    positions = range(len(bars))
    colours = ["#2e7d32" if r.met(t) else "#c62828" for r, t in bars]
    axis.barh(list(positions), ratios, color=colours, height=0.55)
    for position, (_result, target), ratio in zip(positions, bars, ratios, strict=True):
        axis.plot([target.ratio] * 2, [position - 0.4, position + 0.4], color="black", linewidth=2)
        axis.text(ratio, position, f" {ratio:.2f}x", va="center", fontsize=9)
    axis.set_yticks(list(positions), labels, fontsize=8)
    axis.invert_yaxis()
    axis.set_xlabel("gateway / baseline (median); black line: target")
    axis.set_title("mps-gateway against its baselines (green: target met)")
    axis.set_xlim(0, max([*ratios, *(t.ratio for _r, t in bars), 1.0]) * 1.15)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write(folder: Path, document: dict[str, Any], results: list[ScenarioResult]) -> str:
    """Write results.json, results.md and results.png into `folder`; returns the markdown."""
    folder.mkdir(parents=True, exist_ok=True)
    document = {**document, "scenarios": [result.as_dict() for result in results]}
    (folder / "results.json").write_text(json.dumps(document, indent=2) + "\n")
    text = markdown(document, results)
    (folder / "results.md").write_text(text)
    chart(results, folder / CHART_NAME)
    return text
