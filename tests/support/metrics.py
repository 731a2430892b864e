"""Reading /metrics as Prometheus does: the exposition parsed by prometheus-client's own parser
into {(sample name, labels): value}, and the values a test compares (before and after, since
the instruments of a process are shared by every app in it)."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
from prometheus_client.parser import text_string_to_metric_families

Scrape = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Scrape:
    found: Scrape = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def _parsed(response: httpx.Response) -> Scrape:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain"), response.headers
    return parse(response.text)


def bearer(token: str | None) -> dict[str, str]:
    return {} if token is None else {"Authorization": f"Bearer {token}"}


async def scrape(url: str, *, token: str | None = None) -> Scrape:
    """GET `url` (a /metrics) and parse it: the text exposition, from a server in this loop."""
    async with httpx.AsyncClient(timeout=30) as http:
        return _parsed(await http.get(url, headers=bearer(token)))


def scrape_process(url: str, *, token: str | None = None) -> Scrape:
    """The same of a server in another process."""
    return _parsed(httpx.get(url, headers=bearer(token), timeout=30))


def value(found: Scrape, name: str, **labels: str) -> float:
    """One sample (0 when absent: a counter not yet incremented)."""
    return found.get((name, frozenset(labels.items())), 0.0)


def total(found: Scrape, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, have), v in found.items() if n == name and wanted <= have)


def names(found: Mapping[tuple[str, frozenset[tuple[str, str]]], float]) -> set[str]:
    return {name for name, _labels in found}
