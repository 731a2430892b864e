"""Walks through the named operations of `queries/`: each step sends one document as it is
written there, with the API key of the role that may send it (the platform's backend, or its
back-office's operator), and must answer a `...Success` (a mutation) or data without errors (a
query). The walk remembers the steps it took, in order, so a test can hold them against the
steps its documentation lists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests.support.platforms import PlatformHandle

QUERIES = Path(__file__).resolve().parent.parent.parent / "queries"
DOCUMENTS = {path.stem: path.read_text() for path in sorted(QUERIES.glob("*.graphql"))}
MUTATIONS = {name: text for name, text in DOCUMENTS.items() if "\nmutation " in text}


class Walk:
    def __init__(
        self, client: httpx.AsyncClient, platform: PlatformHandle, operator: PlatformHandle
    ) -> None:
        self.client = client
        self.keys = {"backend": platform.headers, "operator": operator.headers}
        self.ran: set[str] = set()
        self.steps: list[tuple[str, str]] = []  # (document, key), in order

    async def run(self, name: str, **input_fields: Any) -> Any:
        """A mutation of the platform's backend (its BACKEND key)."""
        return await self._send(name, {"input": input_fields}, "backend")

    async def decide(self, name: str, **input_fields: Any) -> Any:
        """A mutation of the back-office (its OPERATOR key)."""
        return await self._send(name, {"input": input_fields}, "operator")

    async def read(self, name: str, **variables: Any) -> Any:
        """A query, with the backend's key: its data."""
        response = await self._post(name, {"query": DOCUMENTS[name], "variables": variables})
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    async def upload(self, name: str, content: bytes, **input_fields: Any) -> Any:
        operations = {
            "query": MUTATIONS[name],
            "variables": {"input": {**input_fields, "file": None}},
        }
        response = await self._post(
            name,
            data={
                "operations": json.dumps(operations),
                "map": json.dumps({"0": ["variables.input.file"]}),
            },
            files={"0": ("sample.pdf", content, "application/pdf")},
        )
        return self._payload(name, response)

    async def _send(self, name: str, variables: dict[str, Any], key: str) -> Any:
        body = {"query": MUTATIONS[name], "variables": variables}
        return self._payload(name, await self._post(name, body, key=key))

    async def _post(
        self, name: str, json_body: Any = None, *, key: str = "backend", **form: Any
    ) -> httpx.Response:
        self.steps.append((name, key))
        response = await self.client.post(
            "/graphql", json=json_body, headers=self.keys[key], **form
        )
        assert response.status_code == 200, response.text
        return response

    def _payload(self, name: str, response: httpx.Response) -> Any:
        body = response.json()
        assert "errors" not in body, body
        payload = next(iter(body["data"].values()))
        assert payload["__typename"].endswith("Success"), (name, payload)
        self.ran.add(name)
        return payload
