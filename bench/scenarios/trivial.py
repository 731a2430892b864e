"""Trivial query: `{ __typename }` through the whole gateway (with its API key check) against
a raw Starlette JSON endpoint under the same uvicorn: the fixed cost of one request."""

from __future__ import annotations

from bench.context import Bench
from bench.load import write_body
from bench.results import Check, ScenarioResult, Target
from bench.scenarios.common import measure_turns, post, wrk

TARGET = Target("raw-starlette", 0.3)
UNIT = "requests/s"


def _same_answer(bench: Bench) -> list[Check]:
    typename = {"query": "{ __typename }"}
    gateway = post(bench.server("gateway-pg").url, typename, bench.authorization)
    raw = post(bench.server("raw-json").url, typename)
    return [Check('both answer {"__typename": "Query"}', gateway["data"] == raw["data"])]


def run(bench: Bench) -> ScenarioResult:
    checks = _same_answer(bench)
    body = write_body(bench.work_dir / "typename.json", {"query": "{ __typename }"})
    c = bench.profile.read_connections
    loads = {
        "gateway": wrk(
            bench,
            bench.server("gateway-pg").url,
            "post.lua",
            str(body),
            bench.authorization,
            connections=c,
        ),
        "raw-starlette": wrk(
            bench, bench.server("raw-json").url, "post.lua", str(body), connections=c
        ),
    }
    measurements = measure_turns(bench, loads, UNIT, "trivial query")
    return ScenarioResult(
        key="trivial",
        title="Trivial query { __typename }",
        gateway=measurements["gateway"],
        baselines=[measurements["raw-starlette"]],
        target=TARGET,
        checks=checks,
    )
