"""Typed settings, read once from the environment (prefix MPS_) or a `.env` file."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.domain.documents import DOCUMENT_BYTES_MAX

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///mps-gateway.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MPS_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="sqlite+aiosqlite:///path.db (default: a file in the working directory)"
        " or postgresql+asyncpg://user@host:5432/db",
    )
    migrate_on_start: bool = Field(
        default=True, description="Apply database migrations when the server starts."
    )
    request_body_bytes_max: int = Field(
        default=1_000_000, ge=1_000, description="Largest JSON request body accepted."
    )
    log_level: str = Field(default="INFO", description="Python logging level.")
    documents_dir: Path = Field(
        default=Path("mps-documents"),
        description="Where KYC files are stored (outside the database), one folder per platform.",
    )
    document_bytes_max: int = Field(
        default=DOCUMENT_BYTES_MAX,
        ge=1_024,
        le=100 * 1024 * 1024,
        description="Largest KYC document accepted.",
    )
    webhook_allow_private_urls: bool = Field(
        default=False,
        description="Let webhook endpoints use http and private or loopback hosts (tests,"
        " closed networks); off in production.",
    )
    settler_delay_s: float | None = Field(
        default=None,
        ge=0,
        description="Sandbox settler: decide pending sandbox items older than this (off when"
        " unset; `serve --demo` sets 5).",
    )
