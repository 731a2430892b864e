"""KYC through the API: files to upload, documents, validation requests, sandbox decisions.

On a PRODUCTION platform the decision comes from a compliance officer, never from
`simulateValidation`: see tests/support/decisions.py for the operator's mutations.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.support.calls import mutate, success
from tests.support.documents import REQUEST_VALIDATION, SIMULATE_VALIDATION, SUBMIT_DOCUMENT
from tests.support.platforms import PlatformHandle

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
HTML = b"<!doctype html><html><body><script>alert('hi')</script></body></html>\n"


async def upload(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    *,
    user_id: str,
    document_type: str,
    content: bytes,
    file_name: str,
    person_id: str | None = None,
    declared_type: str = "application/octet-stream",
    expires_on: str | None = None,
) -> httpx.Response:
    """POST submitDocument as a GraphQL multipart request (operations, map, then file `0`)."""
    variables: dict[str, Any] = {"userId": user_id, "type": document_type, "file": None}
    if person_id is not None:
        variables["personId"] = person_id
    if expires_on is not None:
        variables["expiresOn"] = expires_on
    operations = {"query": SUBMIT_DOCUMENT, "variables": {"input": variables}}
    files_map = {"0": ["variables.input.file"]}
    return await client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps(files_map)},
        files={"0": (file_name, content, declared_type)},
        headers=platform.headers,
    )


async def submit_document(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    *,
    user_id: str,
    document_type: str = "IDENTITY_PROOF",
    content: bytes = PDF,
    file_name: str = "document.pdf",
    person_id: str | None = None,
    expires_on: str | None = None,
) -> dict[str, Any]:
    """Upload a document; the submitDocument payload."""
    response = await upload(
        client,
        platform,
        user_id=user_id,
        document_type=document_type,
        content=content,
        file_name=file_name,
        person_id=person_id,
        expires_on=expires_on,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["submitDocument"]
    return payload


async def request_validation(
    client: httpx.AsyncClient, platform: PlatformHandle, user_id: str
) -> dict[str, Any]:
    return await mutate(client, platform, REQUEST_VALIDATION, {"userId": user_id})


async def simulate_validation(
    client: httpx.AsyncClient,
    platform: PlatformHandle,
    user_id: str,
    outcome: str,
    reason: str | None = None,
) -> dict[str, Any]:
    input = {"userId": user_id, "outcome": outcome, "reason": reason}
    return await mutate(client, platform, SIMULATE_VALIDATION, input)


async def validate(client: httpx.AsyncClient, platform: PlatformHandle, user_id: str) -> None:
    """Take a NATURAL user through KYC on a sandbox: identity proof, request, VALIDATED."""
    success(await submit_document(client, platform, user_id=user_id), "SubmitDocumentSuccess")
    success(await request_validation(client, platform, user_id), "RequestValidationSuccess")
    success(await simulate_validation(client, platform, user_id, "VALIDATED"), "SimulateSuccess")
