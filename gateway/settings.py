"""Typed settings, read once from the environment (prefix MPS_) or a `.env` file."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

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
