"""KYC documents: what a file is, told by its first bytes (never by its name or its header)."""

from __future__ import annotations

DOCUMENT_BYTES_MAX = 10 * 1024 * 1024
DOCUMENT_BYTES_MIN = 16

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


def sniff_content_type(head: bytes) -> str | None:
    """application/pdf, image/png or image/jpeg from the file's magic bytes, else None."""
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


def safe_file_name(name: str | None) -> str:
    """A display name without any path, control characters, or excess length."""
    base = (name or "document").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip() or "document"
    return cleaned[:200]
