"""Trusted documents: the operations this gateway knows before any client sends them.

A manifest is built once, at startup, from paths (`MPS_TRUSTED_DOCUMENTS`):

- a directory: each `*.graphql` file in it, the file's exact text (UTF-8) under its sha256;
- a `.graphql` file: the same, for one file;
- a `.json` file: a flat object `{"<sha256 hex>": "<document>"}`, as GraphQL Code Generator's
  client preset writes `persisted-documents.json` and Relay's compiler writes `persistOutput`
  (a key may also carry the `sha256:` prefix of the GraphQL-over-HTTP persisted documents
  proposal).

Every hash is checked against its text, and every document is parsed and validated against
the schema: a manifest with a wrong hash or an invalid document stops the start-up, naming the
file and the hash. What passes is the map hash -> text that `trusted_documents` returns (the
form a compiler of execution plans keyed by document text can reuse), and the parsed
documents, which seed the schema's parse cache.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse, print_schema, validate

from gateway.domain.lru import Lru

SHA256_PREFIX = "sha256:"
# Validation depends on the schema's SDL and the text alone: a process that builds several apps
# (tests, embedding) validates each document once per schema.
_COMPILED: Lru[tuple[str, str], DocumentNode] = Lru(4_096)
# The project's own operations, next to the package in a source checkout.
PROJECT_QUERIES = Path(__file__).resolve().parents[3] / "queries"


class TrustedDocumentsError(ValueError):
    """A manifest the gateway refuses to start with."""


@dataclass(frozen=True, slots=True)
class TrustedDocument:
    text: str
    origin: str  # the file it came from, for messages


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def default_paths() -> list[Path]:
    """The project's queries/ folder when it is there (a source checkout), else nothing."""
    return [PROJECT_QUERIES] if PROJECT_QUERIES.is_dir() else []


def load_manifest(paths: Iterable[Path]) -> dict[str, TrustedDocument]:
    """Every document the paths name, by sha256; TrustedDocumentsError on a bad entry."""
    manifest: dict[str, TrustedDocument] = {}
    for path in paths:
        if path.is_dir():
            for file in sorted(path.glob("*.graphql")):
                _add_file(manifest, file)
        elif path.suffix == ".json" and path.is_file():
            for sha256, text in _json_entries(path):
                manifest[sha256] = TrustedDocument(text, f"{path} ({sha256})")
        elif path.is_file():
            _add_file(manifest, path)
        else:
            raise TrustedDocumentsError(f"Trusted documents: {path} is not a file or directory.")
    return manifest


def _add_file(manifest: dict[str, TrustedDocument], file: Path) -> None:
    text = file.read_text(encoding="utf-8")
    manifest[sha256_hex(text)] = TrustedDocument(text, str(file))


def _json_entries(path: Path) -> Iterable[tuple[str, str]]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise TrustedDocumentsError(f"Trusted documents: {path} is not JSON: {error}") from None
    if not isinstance(loaded, dict):
        raise TrustedDocumentsError(
            f'Trusted documents: {path} must be a JSON object {{"<sha256>": "<document>"}}.'
        )
    for key, text in loaded.items():
        if not isinstance(text, str):
            raise TrustedDocumentsError(f"Trusted documents: {path}: {key} is not a string.")
        sha256 = key.removeprefix(SHA256_PREFIX).lower()
        if sha256 != sha256_hex(text):
            raise TrustedDocumentsError(
                f"Trusted documents: {path}: the key {key} is not the sha256 of its document"
                f" (that is {sha256_hex(text)})."
            )
        yield sha256, text


def compile_manifest(
    schema: GraphQLSchema, manifest: Mapping[str, TrustedDocument]
) -> dict[str, DocumentNode]:
    """Each document parsed and validated against `schema`; TrustedDocumentsError names the
    first that is not a valid operation."""
    compiled: dict[str, DocumentNode] = {}
    sdl = sha256_hex(print_schema(schema))
    for sha256, document in manifest.items():
        known = _COMPILED.get((sdl, sha256))
        if known is not None:
            compiled[sha256] = known
            continue
        try:
            parsed = parse(document.text)
        except GraphQLError as error:
            raise _invalid(document, [error]) from None
        errors = validate(schema, parsed)
        if errors:
            raise _invalid(document, errors)
        compiled[sha256] = parsed
        _COMPILED.put((sdl, sha256), parsed)
    return compiled


def _invalid(document: TrustedDocument, errors: list[GraphQLError]) -> TrustedDocumentsError:
    reasons = "; ".join(error.message for error in errors[:3])
    return TrustedDocumentsError(
        f"Trusted documents: {document.origin} is not valid against the schema: {reasons}"
    )


def trusted_documents(paths: Iterable[Path]) -> Mapping[str, str]:
    """The manifest of `paths` as hash -> document text (hashes checked, not validated)."""
    return {sha256: document.text for sha256, document in load_manifest(paths).items()}
