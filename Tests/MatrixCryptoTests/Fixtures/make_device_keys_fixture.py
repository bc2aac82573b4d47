#!/usr/bin/env python3
"""Writes device-keys-fixture.json for DeviceKeysVerificationTests with an independent implementation:
vodozemac signs each device's keys over the spec's canonical JSON (Python's json with sorted keys, which
sorts by code point). Run once; the output is committed.

    pip install vodozemac==0.10.0 && python3 make_device_keys_fixture.py > device-keys-fixture.json
"""
import json
import vodozemac


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def device(user_id, device_id, extra=None):
    account = vodozemac.Account()
    keys = {"user_id": user_id, "device_id": device_id,
            "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
            "keys": {f"curve25519:{device_id}": account.curve25519_key.to_base64(),
                     f"ed25519:{device_id}": account.ed25519_key.to_base64()}}
    keys.update(extra or {})
    keys["signatures"] = {user_id: {f"ed25519:{device_id}": account.sign(canonical(keys)).to_base64()}}
    # What the server adds after signing, outside the signed part.
    keys["unsigned"] = {"device_display_name": "Alice's laptop"}
    return keys


# Keys whose code-point order differs from naive orders (upper before lower, non-ASCII last), a string
# needing escapes, and an integer: the canonical form must match byte for byte.
alice = device("@alice:example.org", "ALICEDEV", {"Zeta": 1, "é_extra": "snow ☃ \"quoted\"\n\u0008", "a": [1, 2]})
bob = device("@bob:example.org", "BOBDEV")
print(json.dumps({"alice": alice, "bob": bob}, indent=1, ensure_ascii=False))
