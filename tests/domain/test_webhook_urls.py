"""Webhook URL rules, and the setting that lets tests use a receiver on loopback."""

from __future__ import annotations

import pytest

from gateway.domain.webhooks import new_secret, url_problem


@pytest.mark.parametrize(
    "url", ["https://hooks.example.com/mps", "https://8.8.8.8/x", "https://hooks.example.com:8443/"]
)
def test_public_https_urls_are_accepted(url: str) -> None:
    assert url_problem(url, allow_private=False) is None


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "https://localhost/x"])
def test_private_targets_need_the_setting(url: str) -> None:
    assert url_problem(url, allow_private=False) is not None
    assert url_problem(url, allow_private=True) is None


def test_credentials_and_other_schemes_are_refused_even_with_the_setting() -> None:
    assert url_problem("http://u:p@127.0.0.1/x", allow_private=True) is not None
    assert url_problem("ftp://127.0.0.1/x", allow_private=True) is not None


def test_secrets_follow_the_standard_webhooks_format_and_differ() -> None:
    secrets = {new_secret() for _ in range(50)}
    assert len(secrets) == 50
    assert all(secret.startswith("whsec_") for secret in secrets)
