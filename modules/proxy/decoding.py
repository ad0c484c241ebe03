"""Compressed bodies pass through as they are; the readers watch a decoded copy (gzip and deflate, what the
proxy lets the caller's Accept-Encoding ask for)."""

from __future__ import annotations

import zlib


class BodyDecoder:
    """Decodes a body chunk by chunk; an encoding it cannot decode yields nothing (the call is then recorded
    without usage)."""

    def __init__(self, content_encoding: str | None) -> None:
        encoding = (content_encoding or "identity").strip().lower()
        self.identity = encoding in ("", "identity")
        self.inflate: zlib._Decompress | None = None
        if encoding in ("gzip", "x-gzip"):
            self.inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self.inflate = zlib.decompressobj(zlib.MAX_WBITS)
        self.readable = self.identity or self.inflate is not None

    def decode(self, chunk: bytes) -> bytes:
        if self.identity:
            return chunk
        if self.inflate is None:
            return b""
        try:
            return self.inflate.decompress(chunk)
        except zlib.error:
            self.inflate, self.readable = None, False
            return b""
