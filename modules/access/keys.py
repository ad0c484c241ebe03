"""API key material: how keys look, are made and hashed, and the short-lived cache of who they are."""

from __future__ import annotations

import hashlib
import re
import secrets

from modules.core.cache import TtlCache
from modules.core.principal import Principal

KEY_PREFIX = "llmu_"
KEY_PATTERN = re.compile(r"^llmu_[A-Za-z0-9_-]{43,128}$")  # 32 random bytes, URL-safe base64
SHOWN_PREFIX_LENGTH = 12


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """SHA-256: keys carry 256 random bits, so a fast hash is as safe as a slow one and allows lookup."""
    return hashlib.sha256(key.encode()).hexdigest()


class PrincipalCache(TtlCache[str, Principal]):
    """Key hash → principal for `ttl` seconds, so a busy client costs one key lookup per interval.
    Revoking a key evicts it here at once; other processes drop it within `ttl`."""
