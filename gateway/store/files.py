"""The document store: KYC files on disk, outside the database, named by document id.

Files are written to a temporary name, flushed to disk, then renamed into place, so a crash
leaves either the whole file or nothing under its final name. Paths are built from UUIDs
only, never from client input.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path


class DocumentFiles:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, platform_id: uuid.UUID, document_id: uuid.UUID) -> Path:
        return self.root / str(platform_id) / str(document_id)

    def write(self, platform_id: uuid.UUID, document_id: uuid.UUID, content: bytes) -> Path:
        final = self.path(platform_id, document_id)
        final.parent.mkdir(parents=True, exist_ok=True)
        temporary = final.with_suffix(".part")
        with temporary.open("wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(final)
        return final

    def read(self, platform_id: uuid.UUID, document_id: uuid.UUID) -> bytes:
        return self.path(platform_id, document_id).read_bytes()

    def remove(self, platform_id: uuid.UUID, document_id: uuid.UUID) -> None:
        self.path(platform_id, document_id).unlink(missing_ok=True)
