#!/usr/bin/env python3
"""Writes e2e-fixture.json for MatrixCryptoTests with an independent implementation: vodozemac (megolm,
PK encryption) and `cryptography` (AES-CTR, HMAC, HKDF, PBKDF2). Run once; the output is committed.

    pip install vodozemac==0.10.0 cryptography && python3 make_e2e_fixture.py > e2e-fixture.json
"""
import base64, hashlib, hmac, json, os, struct, sys
import vodozemac
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

def b64(b): return base64.b64encode(b).decode().rstrip("=")
def ctr(key, iv, data):
    e = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    return e.update(data) + e.finalize()
ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
def b58(data):
    n = int.from_bytes(data, "big"); out = ""
    while n: n, r = divmod(n, 58); out = ALPHABET[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out
def recovery_key(key):
    raw = bytes([0x8B, 0x01]) + key
    parity = 0
    for x in raw: parity ^= x
    text = b58(raw + bytes([parity]))
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))
def hkdf(key, info):
    return HKDF(algorithm=hashes.SHA256(), length=64, salt=b"\0" * 32, info=info).derive(key)
def ssss_encrypt(key, name, plaintext, iv):
    k = hkdf(key, name.encode())
    ct = ctr(k[:32], iv, plaintext)
    return b64(ct), b64(hmac.new(k[32:], ct, hashlib.sha256).digest())

room = "!fixture:example.org"
out = {"room_id": room}

# Megolm: three messages, the session exported at 0 and at 2.
outbound = vodozemac.GroupSession()
inbound = vodozemac.InboundGroupSession(outbound.session_key)
messages = []
for i, body in enumerate(["first", "second", "third"]):
    plaintext = json.dumps({"type": "m.room.message", "room_id": room,
                            "content": {"msgtype": "m.text", "body": body}})
    messages.append({"index": i, "body": body, "ciphertext": outbound.encrypt(plaintext.encode()).to_base64()})
wrong_room = json.dumps({"type": "m.room.message", "room_id": "!other:example.org",
                         "content": {"msgtype": "m.text", "body": "elsewhere"}})
out["megolm"] = {
    "session_id": outbound.session_id,
    "export_at_0": inbound.export_at(0).to_base64(),
    "export_at_2": inbound.export_at(2).to_base64(),
    "messages": messages,
    "wrong_room_ciphertext": outbound.encrypt(wrong_room.encode()).to_base64(),
}

# Key backup: a session_data encrypted to a Curve25519 backup key with vodozemac's PK encryption.
backup_secret = vodozemac.Curve25519SecretKey()
backup_private = backup_secret.to_bytes()
session_json = json.dumps({"algorithm": "m.megolm.v1.aes-sha2", "sender_key": "fixture-sender",
                           "session_key": out["megolm"]["export_at_0"], "sender_claimed_keys": {},
                           "forwarding_curve25519_key_chain": []})
message = vodozemac.PkEncryption.from_key(backup_secret.public_key()).encrypt(session_json.encode())
ephemeral, mac, ciphertext = message.to_base64()  # (ephemeral, mac, ciphertext) in 0.10.0
out["backup"] = {
    "private_key": b64(backup_private),
    "public_key": backup_secret.public_key().to_base64(),
    "recovery_key": recovery_key(backup_private),
    "session_data": {"ephemeral": ephemeral, "mac": mac, "ciphertext": ciphertext},
}

# Secret storage: a passphrase-derived key, its check MAC, and the backup key stored as a secret.
salt, iterations = "fixturesalt", 1000
ssss_key = PBKDF2HMAC(algorithm=hashes.SHA512(), length=32, salt=salt.encode(), iterations=iterations).derive(b"correct horse")
check_iv = bytearray(os.urandom(16)); check_iv[8] &= 0x7F
_, check_mac = ssss_encrypt(ssss_key, "", b"\0" * 32, bytes(check_iv))
secret_iv = bytearray(os.urandom(16)); secret_iv[8] &= 0x7F
secret_ct, secret_mac = ssss_encrypt(ssss_key, "m.megolm_backup.v1", b64(backup_private).encode(), bytes(secret_iv))
out["secret_storage"] = {
    "key_id": "fixturekey", "passphrase": "correct horse", "recovery_key": recovery_key(ssss_key),
    "description": {"algorithm": "m.secret_storage.v1.aes-hmac-sha2", "iv": b64(check_iv), "mac": check_mac,
                    "passphrase": {"algorithm": "m.pbkdf2", "salt": salt, "iterations": iterations, "bits": 256}},
    "backup_secret": {"encrypted": {"fixturekey": {"iv": b64(secret_iv), "ciphertext": secret_ct, "mac": secret_mac}}},
}

# Key-export file holding the session exported at 2.
export_json = json.dumps([{"algorithm": "m.megolm.v1.aes-sha2", "room_id": room, "session_id": outbound.session_id,
                           "session_key": out["megolm"]["export_at_2"], "sender_key": "fixture-sender",
                           "sender_claimed_keys": {}, "forwarding_curve25519_key_chain": []}]).encode()
salt16, iv16, rounds = os.urandom(16), bytearray(os.urandom(16)), 1000
iv16[8] &= 0x7F
keys = PBKDF2HMAC(algorithm=hashes.SHA512(), length=64, salt=salt16, iterations=rounds).derive(b"export pass")
body = b"\x01" + salt16 + bytes(iv16) + struct.pack(">I", rounds) + ctr(keys[:32], bytes(iv16), export_json)
body += hmac.new(keys[32:], body, hashlib.sha256).digest()
encoded = base64.b64encode(body).decode()
out["key_export"] = {
    "passphrase": "export pass",
    "file": "-----BEGIN MEGOLM SESSION DATA-----\n" + "\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76))
            + "\n-----END MEGOLM SESSION DATA-----\n",
}
json.dump(out, sys.stdout, indent=1)
print()
