"""Field encryption, key rotation, blind index and masking."""

import base64

import pytest

from civicgrid.core import crypto

KEY_A = "aa" * 32
KEY_B = base64.urlsafe_b64encode(b"\x01" * 32).decode()


@pytest.fixture(autouse=True)
def _keys(settings):
    settings.FIELD_ENCRYPTION_KEY = KEY_A
    settings.FIELD_ENCRYPTION_OLD_KEYS = []
    settings.BLIND_INDEX_KEY = "bb" * 32


def test_round_trip_and_random_nonce():
    a = crypto.encrypt("320803195003070021", purpose="p")
    b = crypto.encrypt("320803195003070021", purpose="p")
    assert a != b and a.startswith("v1:")
    assert "320803" not in a
    assert crypto.decrypt(a, purpose="p") == "320803195003070021"
    assert crypto.encrypt("", purpose="p") == "" and crypto.decrypt("", purpose="p") == ""


def test_purpose_is_bound():
    token = crypto.encrypt("13812345678", purpose="person.phone")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, purpose="person.id_number")


def test_tampering_detected():
    token = crypto.encrypt("secret", purpose="p")
    body = token.rsplit(":", 1)[1]
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token.rsplit(":", 1)[0] + ":" + flipped, purpose="p")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt("not-encrypted", purpose="p")


def test_key_rotation(settings):
    old = crypto.encrypt("value", purpose="p")
    settings.FIELD_ENCRYPTION_KEY = KEY_B
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(old, purpose="p")  # the old key is no longer configured
    settings.FIELD_ENCRYPTION_OLD_KEYS = [KEY_A]
    assert crypto.decrypt(old, purpose="p") == "value"
    assert crypto.needs_rotation(old)
    new = crypto.encrypt("value", purpose="p")
    assert not crypto.needs_rotation(new) and new.split(":")[1] != old.split(":")[1]


def test_bad_keys_refused():
    for raw in ("short", "zz" * 32, base64.b64encode(b"x" * 16).decode()):
        with pytest.raises(ValueError):
            crypto.parse_key(raw)


def test_blind_index_exact_and_separated(settings):
    a = crypto.blind_index("13812345678", purpose="phone")
    assert a == crypto.blind_index("13812345678", purpose="phone") and len(a) == 64
    assert a != crypto.blind_index("13812345678", purpose="id")
    assert a != crypto.blind_index("13812345679", purpose="phone")
    settings.BLIND_INDEX_KEY = "cc" * 32
    assert a != crypto.blind_index("13812345678", purpose="phone")


def test_masks():
    assert crypto.mask_id_number("32080319900101123X") == "320803********123X"
    assert crypto.mask_phone("13812345678") == "138****5678"
    assert crypto.mask_phone("0517-83651234") == "0517-****1234"
    assert crypto.mask_id_number("") == crypto.mask_phone("") == ""
    assert crypto.mask_id_number("E1234567") == "E*******"


def test_settings_derive_distinct_keys():
    from django.conf import settings as real

    assert real.FIELD_ENCRYPTION_KEY != real.BLIND_INDEX_KEY
