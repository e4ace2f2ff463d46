"""What an evidence file may be, decided from its bytes.

A browser's content type and a file's name are what the uploader says; the first
bytes are what the file is. An executable renamed to .pdf or an HTML page saved
as .pdf is refused here, whatever it is called.
"""

from __future__ import annotations

# content type -> (magic bytes at offset 0, file extension we store it under)
ACCEPTED = {
    "application/pdf": (b"%PDF-", ".pdf"),
    "image/png": (b"\x89PNG\r\n\x1a\n", ".png"),
    "image/jpeg": (b"\xff\xd8\xff", ".jpg"),
}
ACCEPTED_LABEL = "PDF, PNG or JPEG"
HEAD_BYTES = 16


def sniff(head: bytes) -> str | None:
    """The content type of a file starting with `head`, if it is one we accept."""
    for content_type, (magic, _extension) in ACCEPTED.items():
        if head.startswith(magic):
            return content_type
    return None


def extension(content_type: str) -> str:
    return ACCEPTED[content_type][1]
