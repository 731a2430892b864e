"""API keys: the environment shows in the key, only a digest is kept."""

from __future__ import annotations

import pytest

from gateway.domain.credentials import (
    bearer_token,
    digest_matches,
    generate_api_key,
    key_digest,
    key_prefix,
)
from gateway.domain.enums import Environment


def test_sandbox_and_production_keys_differ_by_prefix() -> None:
    assert generate_api_key(Environment.SANDBOX).key.startswith("mps_test_")
    assert generate_api_key(Environment.PRODUCTION).key.startswith("mps_live_")


def test_a_new_key_is_found_by_its_prefix_and_matches_only_its_digest() -> None:
    new = generate_api_key(Environment.SANDBOX)
    assert key_prefix(new.key) == new.prefix
    assert new.digest == key_digest(new.key)
    assert new.key not in new.digest
    assert digest_matches(new.key, new.digest)
    assert not digest_matches(new.key + "x", new.digest)


def test_keys_are_unique() -> None:
    assert len({generate_api_key(Environment.SANDBOX).key for _ in range(200)}) == 200


@pytest.mark.parametrize(
    "key", ["", "mps_test_", "mps_test_short", "mps_test_abcdefghijkm", "sk_live_x", "é" * 40]
)
def test_strings_that_cannot_be_keys_have_no_prefix(key: str) -> None:
    assert key_prefix(key) is None


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer  abc ", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        (None, None),
    ],
)
def test_bearer_tokens_are_read_from_the_header(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token
