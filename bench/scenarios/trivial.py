"""Trivial query: `{ __typename }` through the whole gateway (with its API key check) against
a raw Starlette JSON endpoint under the same uvicorn: the fixed cost of one request."""

from __future__ import annotations

from bench.config import TARGETS
from bench.context import Bench
from bench.load import write_body
from bench.results import Check, ScenarioResult
from bench.scenarios.common import executor_of, measure_turns, post, post_load, post_response

UNIT = "requests/s"


def run(bench: Bench) -> ScenarioResult:
    typename: dict[str, object] = {"query": "{ __typename }"}
    gateway, response = post_response(bench.server("gateway-pg").url, typename, bench.authorization)
    raw = post(bench.server("raw-json").url, typename)
    checks = [Check('both answer {"__typename": "Query"}', gateway["data"] == raw["data"])]
    body = write_body(bench.work_dir / "typename.json", typename)
    c = bench.profile.read_connections
    loads = {
        "gateway": post_load(bench, "gateway-pg", body, bench.authorization, connections=c),
        "raw-starlette": post_load(bench, "raw-json", body, connections=c),
    }
    measurements = measure_turns(bench, loads, UNIT, "trivial query")
    return ScenarioResult(
        key="trivial",
        title="Trivial query { __typename }",
        gateway=measurements["gateway"],
        baselines=[measurements["raw-starlette"]],
        goals=TARGETS["trivial"],
        checks=checks,
        executor=executor_of(response),
    )
