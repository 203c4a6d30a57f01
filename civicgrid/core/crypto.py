"""Field encryption, keyed blind indexes and masking for personal data (DESIGN.md §4).

* `encrypt(value, purpose=…)` → ``"v1:<kid>:<base64url(nonce ‖ ciphertext ‖ tag)>"`` with
  AES-256-GCM. The key id (`kid`) names the key that wrote the value, so keys can rotate:
  the current key (`FIELD_ENCRYPTION_KEY`) encrypts, every key in `FIELD_ENCRYPTION_OLD_KEYS`
  still decrypts, and a re-encryption pass can move rows to the new key at leisure.
  `purpose` is bound in as associated data, so a ciphertext copied from the phone column into
  the ID column does not decrypt.
* `blind_index(value, purpose=…)` → HMAC-SHA256 hex under `BLIND_INDEX_KEY`. Equal inputs
  give equal indexes, so exact search and a UNIQUE constraint work without the database ever
  seeing the plaintext. The blind-index key cannot rotate without recomputing every index
  (one pass over the table); keep it stable.
* Stored as plain text columns (TextField / CharField), so both engines hold them alike.

SM4 is not used: `cryptography` exposes SM4 only in some OpenSSL builds, and AES-GCM gives
authenticated encryption everywhere.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

VERSION = "v1"
NONCE_BYTES = 12


class DecryptionError(ValueError):
    """Ciphertext that no configured key opens (wrong key, tampered, or not ours)."""


def parse_key(raw: str | bytes) -> bytes:
    """Keys are 32 bytes given as 64 hex characters or base64 (standard or url-safe)."""
    if isinstance(raw, bytes):
        key = raw
    else:
        text = raw.strip()
        try:
            key = bytes.fromhex(text) if len(text) == 64 else _b64decode(text)
        except (ValueError, binascii.Error) as exc:
            raise ValueError("key must be 32 bytes as hex or base64") from exc
    if len(key) != 32:
        raise ValueError("key must be 32 bytes (256 bits)")
    return key


def _b64decode(text: str) -> bytes:
    text = text.replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def key_id(key: bytes) -> str:
    """A short public fingerprint of a key; never reveals the key itself."""
    return hashlib.sha256(b"civicgrid-key-id:" + key).hexdigest()[:8]


@lru_cache(maxsize=8)
def _keyring(current: str | bytes, old: tuple[str | bytes, ...]) -> tuple[str, dict[str, AESGCM]]:
    keys = [parse_key(current), *(parse_key(k) for k in old)]
    ring = {key_id(k): AESGCM(k) for k in keys}
    return key_id(keys[0]), ring


def keyring() -> tuple[str, dict[str, AESGCM]]:
    old = getattr(settings, "FIELD_ENCRYPTION_OLD_KEYS", ()) or ()
    return _keyring(settings.FIELD_ENCRYPTION_KEY, tuple(old))


@lru_cache(maxsize=4)
def _index_key(raw: str | bytes) -> bytes:
    return parse_key(raw)


def encrypt(value: str, *, purpose: str) -> str:
    """Encrypt `value` (may be empty: empty stays empty, so "no phone" needs no key)."""
    if value == "":
        return ""
    kid, ring = keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = ring[kid].encrypt(nonce, value.encode(), purpose.encode())
    token = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
    return f"{VERSION}:{kid}:{token}"


def decrypt(token: str, *, purpose: str) -> str:
    if token == "":
        return ""
    try:
        version, kid, body = token.split(":", 2)
    except ValueError as exc:
        raise DecryptionError("not an encrypted value") from exc
    _, ring = keyring()
    if version != VERSION or kid not in ring:
        raise DecryptionError(f"no key {kid!r} configured")
    try:
        raw = _b64decode(body)
        return ring[kid].decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], purpose.encode()).decode()
    except (InvalidTag, ValueError, binascii.Error) as exc:
        raise DecryptionError("ciphertext does not open with its key") from exc


def needs_rotation(token: str) -> bool:
    """True for a value written under an older key (for a re-encryption pass)."""
    kid, _ = keyring()
    return bool(token) and token.split(":", 2)[1:2] != [kid]


def blind_index(value: str, *, purpose: str) -> str:
    """Keyed HMAC of an already normalised value; `purpose` keeps indexes of different
    fields apart (the same digits as a phone and as an ID never collide)."""
    key = _index_key(settings.BLIND_INDEX_KEY)
    msg = purpose.encode() + b"\x00" + value.encode()
    # hmac.digest is OpenSSL's one-shot HMAC: same bytes as hmac.new(...).digest(), without
    # building two Python hash objects per call (an import computes millions of these).
    return hmac.digest(key, msg, "sha256").hex()


# --- masking --------------------------------------------------------------------------------


def mask_id_number(value: str) -> str:
    """`320803199001011234` → `320803********1234`: region and last four stay readable, so
    staff can tell two people apart on a list without seeing the birth date."""
    if not value:
        return ""
    if len(value) <= 8:
        return value[:1] + "*" * (len(value) - 1)
    keep_head = 6 if len(value) >= 15 else 2
    return value[:keep_head] + "*" * (len(value) - keep_head - 4) + value[-4:]


def mask_phone(value: str) -> str:
    """Mobile `13812345678` → `138****5678`; landline `0517-83651234` → `0517-****1234`."""
    if not value:
        return ""
    if "-" in value:
        area, _, local = value.partition("-")
        return f"{area}-" + "*" * max(len(local) - 4, 0) + local[-4:]
    if len(value) <= 7:
        return value[:1] + "*" * (len(value) - 1)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
