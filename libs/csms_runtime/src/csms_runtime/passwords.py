"""Salted password hashes for HTTP Basic auth of charging stations (security profiles 1 and 2).

PBKDF2-SHA256 from the standard library. The iteration count is modest on purpose:
station passwords are 16-40 random characters set by the CSMS, and a boot storm of
thousands of stations must not cost minutes of CPU (see docs/adr/0004-station-passwords.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

SCHEME = "pbkdf2_sha256"
ITERATIONS = 25_000
MIN_LENGTH = 16
MAX_LENGTH = 40


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, iterations: int = ITERATIONS) -> str:
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"{SCHEME}${iterations}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, digest = stored.split("$")
        if scheme != SCHEME:
            return False
        computed = hashlib.pbkdf2_hmac("sha256", password.encode(), _unb64(salt), int(iterations))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed, _unb64(digest))
