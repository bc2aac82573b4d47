#!/usr/bin/env python3
"""End-to-end encrypted rooms, key backups, secret storage and key-export files for mxarchive's tests.

Called by seed.py for the `test` profile (seed_test), and usable on its own:

    seed_e2e.py --self-check                      round-trips every format without Synapse
    seed_e2e.py --verify SEED_JSON                checks a running seeded Synapse against the truth file,
                                                  decrypting everything with libolm (python-olm)
    seed_e2e.py --corpus N --out-dir DIR --room-id ID --sender USER --passphrase-file FILE
                                                  writes an offline bench corpus (make_corpus)

An independent implementation of the client side: megolm and the libolm-compatible PK encryption come
from vodozemac (PyPI `vodozemac` 0.10.0); AES, HMAC, HKDF, PBKDF2 and X25519 from `cryptography` (in
Synapse's venv). python-olm (libolm) is only used by --self-check, as the independent decoder.

Formats (as the Matrix spec defines them and README.md "Encrypted rooms" describes; every one as current clients write it):

* m.room.encrypted content: {algorithm: m.megolm.v1.aes-sha2, ciphertext, session_id, sender_key,
  device_id}; plaintext {"type", "content", "room_id"}. m.relates_to of edits, reactions, replies and
  threads is copied into the clear content and also kept inside the plaintext content.
* Key backup m.megolm_backup.v1.curve25519-aes-sha2: session_data {ephemeral, ciphertext, mac} exactly
  as libolm's PkEncryption makes it (vodozemac.PkEncryption): X25519, HKDF-SHA-256 (no salt, info "")
  -> 80 bytes (AES-256 key, HMAC key, CBC IV), AES-256-CBC with PKCS#7, mac = first 8 bytes of
  HMAC-SHA-256 over the EMPTY string (libolm's long-standing quirk), unpadded base64.
* Recovery key: base58 (Bitcoin alphabet) of 0x8B 0x01 + 32-byte key + parity byte (XOR of all 35
  bytes is zero), written in groups of four characters separated by spaces.
* Secret storage m.secret_storage.v1.aes-hmac-sha2: HKDF-SHA-256 (salt 32 zero bytes, info = secret
  name) -> AES-256-CTR key + HMAC-SHA-256 key; IV with bit 63 cleared; MAC over the ciphertext. The key
  check is the encryption of 32 zero bytes under the name "". iv, ciphertext and mac are PADDED base64,
  as matrix-js-sdk (Element Web) writes them. The secret m.megolm_backup.v1 is the unpadded base64 of the
  32-byte backup private key.
* Key-export file: Element's format, base64 lines of 72 bytes (96 characters) between the BEGIN/END
  MEGOLM SESSION DATA lines; 0x01, salt(16), iv(16, bit 63 cleared), rounds (u32 BE), AES-256-CTR
  ciphertext, HMAC-SHA-256; keys from PBKDF2-SHA-512(passphrase, salt, rounds) -> 64 bytes.
* Encrypted attachments v2: AES-256-CTR, JWK key, iv with the low 8 bytes zero, sha256 of the ciphertext.

No secret (recovery key, passphrase, private key) is ever printed; they go only into the truth file and
the key-export file, both mode 0600.
"""

import base64
import copy
import hashlib
import hmac
import json
import os
import random
import secrets
import string
import struct
import sys
import time
import zlib

import vodozemac
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MEGOLM = "m.megolm.v1.aes-sha2"
OLM = "m.olm.v1.curve25519-aes-sha2"
BACKUP_ALGORITHM = "m.megolm_backup.v1.curve25519-aes-sha2"
SSSS_ALGORITHM = "m.secret_storage.v1.aes-hmac-sha2"
BACKUP_SECRET = "m.megolm_backup.v1"
PBKDF2_ITERATIONS = 100000
EXPORT_ROUNDS = 100000
EXPORT_HEADER = "-----BEGIN MEGOLM SESSION DATA-----"
EXPORT_TRAILER = "-----END MEGOLM SESSION DATA-----"
RECOVERY_PREFIX = b"\x8b\x01"
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def log(msg):
    print(f"seed_e2e: {msg}", file=sys.stderr, flush=True)


# --- encodings ----------------------------------------------------------------------------------

def b64(data):
    """Unpadded standard base64 (the Matrix default)."""
    return base64.b64encode(data).decode("ascii").rstrip("=")


def b64_padded(data):
    return base64.b64encode(data).decode("ascii")


def b64url(data):
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def unb64(text):
    """Decodes standard or URL-safe base64, padded or not."""
    text = text.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def canonical_json(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def random_alnum(n):
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(n))


def base58_encode(data):
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = BASE58[r] + out
    zeros = len(data) - len(data.lstrip(b"\x00"))
    return "1" * zeros + out


def base58_decode(text):
    n = 0
    for ch in text:
        n = n * 58 + BASE58.index(ch)  # ValueError on a character outside the alphabet
    zeros = len(text) - len(text.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\x00" * zeros + body


def encode_recovery_key(key):
    assert len(key) == 32
    data = RECOVERY_PREFIX + key
    parity = 0
    for b in data:
        parity ^= b
    text = base58_encode(data + bytes([parity]))
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


def decode_recovery_key(text):
    """The 32-byte key of a recovery key; ValueError if it is malformed or its parity is wrong."""
    data = base58_decode("".join(text.split()))
    if len(data) != 35 or data[:2] != RECOVERY_PREFIX:
        raise ValueError("not a recovery key")
    parity = 0
    for b in data:
        parity ^= b
    if parity != 0:
        raise ValueError("recovery key parity check failed")
    return data[2:34]


def bad_parity_variant(recovery_key):
    """The recovery key with one character changed so that it still decodes to 35 bytes with the right
    prefix, but fails the parity check."""
    chars = list(recovery_key)
    positions = [i for i, c in enumerate(chars) if c != " "]
    for pos in reversed(positions[len(positions) // 2:]):
        for c in BASE58:
            if c == chars[pos]:
                continue
            candidate = "".join(chars[:pos] + [c] + chars[pos + 1:])
            data = base58_decode("".join(candidate.split()))
            if len(data) != 35 or data[:2] != RECOVERY_PREFIX:
                continue
            try:
                decode_recovery_key(candidate)
            except ValueError:
                return candidate
    raise RuntimeError("could not make a bad-parity recovery key")


# --- primitives ---------------------------------------------------------------------------------

def aes_ctr(key, iv, data):
    enc = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    return enc.update(data) + enc.finalize()


def hkdf_sha256(key, info, length, salt=bytes(32)):
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(key)


def pbkdf2_sha512(passphrase, salt, iterations, length):
    if isinstance(passphrase, str):
        passphrase = passphrase.encode("utf-8")
    if isinstance(salt, str):
        salt = salt.encode("utf-8")
    return hashlib.pbkdf2_hmac("sha512", passphrase, salt, iterations, length)


def ctr_iv():
    """16 random bytes with bit 63 cleared (so a 64-bit counter cannot wrap), as clients make them."""
    iv = bytearray(os.urandom(16))
    iv[8] &= 0x7F
    return bytes(iv)


def curve25519_public(private_key):
    return X25519PrivateKey.from_private_bytes(private_key).public_key().public_bytes_raw()


# --- secret storage -----------------------------------------------------------------------------

def ssss_encrypt(key, name, plaintext, iv=None):
    iv = iv if iv is not None else ctr_iv()
    keys = hkdf_sha256(key, name.encode("utf-8"), 64)
    ciphertext = aes_ctr(keys[:32], iv, plaintext)
    mac = hmac.new(keys[32:], ciphertext, hashlib.sha256).digest()
    return {"iv": b64_padded(iv), "ciphertext": b64_padded(ciphertext), "mac": b64_padded(mac)}


def ssss_decrypt(key, name, item):
    keys = hkdf_sha256(key, name.encode("utf-8"), 64)
    ciphertext = unb64(item["ciphertext"])
    mac = hmac.new(keys[32:], ciphertext, hashlib.sha256).digest()
    if not hmac.compare_digest(mac, unb64(item["mac"])):
        raise ValueError(f"bad MAC for secret {name!r}")
    return aes_ctr(keys[:32], unb64(item["iv"]), ciphertext)


def ssss_key_check(key, iv=None):
    """{iv, mac} of a secret storage key description: 32 zero bytes encrypted under the name ""."""
    item = ssss_encrypt(key, "", bytes(32), iv)
    return {"iv": item["iv"], "mac": item["mac"]}


def ssss_key_matches(key, description):
    return hmac.compare_digest(ssss_key_check(key, unb64(description["iv"]))["mac"].rstrip("="),
                               description["mac"].rstrip("="))


# --- backup (libolm PK encryption) --------------------------------------------------------------

def pk_encrypt(public_key, plaintext):
    """session_data for m.megolm_backup.v1.curve25519-aes-sha2, as libolm's olm_pk_encrypt makes it."""
    enc = vodozemac.PkEncryption.from_key(vodozemac.Curve25519PublicKey.from_base64(public_key))
    msg = enc.encrypt(plaintext)
    # vodozemac 0.10.0's Message.to_base64() order differs from its docstring; use the fields.
    return {"ephemeral": b64(msg.ephemeral_key), "ciphertext": b64(msg.ciphertext), "mac": b64(msg.mac)}


def pk_decrypt_reference(private_key, session_data):
    """An independent decryption of session_data (cryptography only), checking the MAC the way libolm
    does: the first 8 bytes of HMAC-SHA-256 over an empty string."""
    shared = X25519PrivateKey.from_private_bytes(private_key).exchange(
        X25519PublicKey.from_public_bytes(unb64(session_data["ephemeral"])))
    keys = HKDF(algorithm=hashes.SHA256(), length=80, salt=None, info=b"").derive(shared)
    aes_key, mac_key, iv = keys[:32], keys[32:64], keys[64:80]
    mac = hmac.new(mac_key, b"", hashlib.sha256).digest()[:8]
    if not hmac.compare_digest(mac, unb64(session_data["mac"])):
        raise ValueError("bad session_data MAC")
    dec = Cipher(algorithms.AES(aes_key), modes.CBC(iv)).decryptor()
    padded = dec.update(unb64(session_data["ciphertext"])) + dec.finalize()
    unpad = padding.PKCS7(128).unpadder()
    return unpad.update(padded) + unpad.finalize()


def tamper_mac(session_data):
    out = dict(session_data)
    mac = bytearray(unb64(out["mac"]))
    mac[0] ^= 0x01
    out["mac"] = b64(bytes(mac))
    return out


# --- key export files ---------------------------------------------------------------------------

def key_export_text(sessions, passphrase, rounds=EXPORT_ROUNDS):
    """An Element key-export file (text) holding `sessions` (a list of export entries)."""
    salt = os.urandom(16)
    iv = ctr_iv()
    keys = pbkdf2_sha512(passphrase, salt, rounds, 64)
    plaintext = json.dumps(sessions, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    body = b"\x01" + salt + iv + struct.pack(">I", rounds) + aes_ctr(keys[:32], iv, plaintext)
    data = body + hmac.new(keys[32:], body, hashlib.sha256).digest()
    lines = [EXPORT_HEADER]
    lines += [b64_padded(data[i:i + 72]) for i in range(0, len(data), 72)]
    lines += [EXPORT_TRAILER, ""]
    return "\n".join(lines)


def read_key_export(text, passphrase):
    """Decrypts a key-export file; ValueError on a wrong passphrase or a damaged file."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    start, end = lines.index(EXPORT_HEADER), lines.index(EXPORT_TRAILER)
    data = base64.b64decode("".join(lines[start + 1:end]))
    if data[0] != 1:
        raise ValueError("unsupported key export version")
    salt, iv, rounds = data[1:17], data[17:33], struct.unpack(">I", data[33:37])[0]
    keys = pbkdf2_sha512(passphrase, salt, rounds, 64)
    if not hmac.compare_digest(hmac.new(keys[32:], data[:-32], hashlib.sha256).digest(), data[-32:]):
        raise ValueError("key export MAC mismatch (wrong passphrase?)")
    return json.loads(aes_ctr(keys[:32], iv, data[37:-32]))


def write_private(path, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


# --- attachments --------------------------------------------------------------------------------

def make_png(width, height, rng):
    """A small real RGB PNG: gradients with noise (so it does not compress to nothing)."""
    raw = bytearray()
    for y in range(height):
        raw.append(0)
        for x in range(width):
            raw += bytes(((x * 255) // max(width - 1, 1), (y * 255) // max(height - 1, 1), rng.randrange(256)))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")


def encrypt_attachment(plaintext):
    """(ciphertext, EncryptedFile without url) for encrypted attachments v2."""
    key = os.urandom(32)
    iv = os.urandom(8) + bytes(8)
    ciphertext = aes_ctr(key, iv, plaintext)
    info = {
        "v": "v2",
        "key": {"kty": "oct", "key_ops": ["encrypt", "decrypt"], "alg": "A256CTR", "k": b64url(key), "ext": True},
        "iv": b64(iv),
        "hashes": {"sha256": b64(hashlib.sha256(ciphertext).digest())},
    }
    return ciphertext, info


def decrypt_attachment(ciphertext, file_info):
    if b64(hashlib.sha256(ciphertext).digest()) != file_info["hashes"]["sha256"].rstrip("="):
        raise ValueError("attachment hash mismatch")
    return aes_ctr(unb64(file_info["key"]["k"]), unb64(file_info["iv"]), ciphertext)


def upload(client, user, data, filename, content_type="application/octet-stream"):
    import http.client
    import urllib.parse

    conn = http.client.HTTPConnection(client.host, client.port, timeout=60)
    try:
        conn.request("POST", "/_matrix/media/v3/upload?filename=" + urllib.parse.quote(filename), body=data,
                     headers={"Authorization": "Bearer " + user.token, "Content-Type": content_type,
                              "Content-Length": str(len(data))})
        resp = conn.getresponse()
        payload = json.loads(resp.read() or b"{}")
        if resp.status != 200:
            raise RuntimeError(f"upload failed: HTTP {resp.status}: {payload}")
        return payload["content_uri"]
    finally:
        conn.close()


# --- megolm -------------------------------------------------------------------------------------

class Device:
    """A sending device: a vodozemac account (its identity keys) for one user."""

    def __init__(self, user_id, device_id):
        self.user_id = user_id
        self.device_id = device_id
        self.account = vodozemac.Account()
        self.curve25519 = self.account.curve25519_key.to_base64()
        self.ed25519 = self.account.ed25519_key.to_base64()

    def device_keys(self):
        keys = {
            "user_id": self.user_id,
            "device_id": self.device_id,
            "algorithms": [OLM, MEGOLM],
            "keys": {f"curve25519:{self.device_id}": self.curve25519, f"ed25519:{self.device_id}": self.ed25519},
        }
        signature = self.account.sign(canonical_json(keys)).to_base64()
        keys["signatures"] = {self.user_id: {f"ed25519:{self.device_id}": signature}}
        return keys


class Session:
    """One outbound megolm session of a device in a room, with the inbound copy that exports its key."""

    def __init__(self, device, room_id):
        self.device = device
        self.room_id = room_id
        self.outbound = vodozemac.GroupSession()
        self.inbound = vodozemac.InboundGroupSession(self.outbound.session_key)
        self.session_id = self.outbound.session_id
        self.events = []  # event ids in send order
        self.indexes = {}  # event id -> message index

    def encrypt(self, event_type, content, room_id):
        """(m.room.encrypted content, message index). The plaintext's room_id is `room_id`."""
        index = self.outbound.message_index
        plaintext = json.dumps({"type": event_type, "content": content, "room_id": room_id},
                               separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        ciphertext = self.outbound.encrypt(plaintext).to_base64()
        return self.wrap(ciphertext), index

    def wrap(self, ciphertext):
        return {"algorithm": MEGOLM, "ciphertext": ciphertext, "session_id": self.session_id,
                "sender_key": self.device.curve25519, "device_id": self.device.device_id}

    def session_key(self, index=0):
        return self.inbound.export_at(index).to_base64()

    def key_data(self, index=0):
        """The backed-up session data (plaintext of session_data)."""
        return {"algorithm": MEGOLM, "sender_key": self.device.curve25519, "session_key": self.session_key(index),
                "sender_claimed_keys": {"ed25519": self.device.ed25519}, "forwarding_curve25519_key_chain": []}

    def export_entry(self, index=0):
        """An entry of a key-export file."""
        entry = {"room_id": self.room_id, "session_id": self.session_id}
        entry.update(self.key_data(index))
        return entry

    def backup_entry(self, public_key, index=0):
        return {"first_message_index": index, "forwarded_count": 0, "is_verified": False,
                "session_data": pk_encrypt(public_key, json.dumps(self.key_data(index)).encode("utf-8"))}


# --- the seeded rooms ---------------------------------------------------------------------------

def _seed():
    import seed  # seed.py registers itself as module "seed" before importing this one

    return seed


def encrypted_room_class():
    seed = _seed()

    class EncryptedRoom(seed.Room):
        """A Room whose timeline events are sent as m.room.encrypted (megolm); the truth is computed from
        the plaintexts exactly as for the other rooms, plus each message's session_id."""

        def __init__(self, client, key, room_id, alias, name, devices, rotate_every=None):
            super().__init__(client, key, room_id, alias, name)
            self.devices = devices  # user id -> Device
            self.rotate_every = rotate_every
            self.sessions = []  # in creation order
            self.current = {}  # user id -> Session
            self.session_of = {}  # event id -> Session
            self.sent_content = {}  # event id -> the m.room.encrypted content sent

        def new_session(self, user):
            s = Session(self.devices[user.user_id], self.room_id)
            self.sessions.append(s)
            self.current[user.user_id] = s
            return s

        def session_for(self, user):
            s = self.current.get(user.user_id)
            if s is None or (self.rotate_every and len(s.events) >= self.rotate_every):
                s = self.new_session(user)
            return s

        def encrypt(self, user, event_type, content, plaintext_room_id=None):
            s = self.session_for(user)
            enc, index = s.encrypt(event_type, content, plaintext_room_id or self.room_id)
            if "m.relates_to" in content:
                enc["m.relates_to"] = copy.deepcopy(content["m.relates_to"])
            return enc, s, index

        def send_encrypted(self, user, enc, session, index):
            event_id = self.client.send(user, self.room_id, "m.room.encrypted", enc)
            session.events.append(event_id)
            session.indexes[event_id] = index
            self.session_of[event_id] = session
            self.sent_content[event_id] = enc
            return event_id

        def send(self, user, event_type, content):
            enc, s, index = self.encrypt(user, event_type, content)
            return self.send_encrypted(user, enc, s, index)

        def truth(self, owner):
            entry = super().truth(owner)
            for m in entry["messages"]:
                s = self.session_of.get(m["event_id"])
                m["session_id"] = s.session_id if s else None
            return entry

    return EncryptedRoom


def create_encrypted_room(client, owner, key, name, alias_local, devices, joiners=(), rotate_every=None):
    seed = _seed()
    body = {"preset": "public_chat", "name": name, "room_alias_name": alias_local,
            "initial_state": [{"type": "m.room.encryption", "state_key": "", "content": {"algorithm": MEGOLM}}]}
    room_id = client.create_room(owner, body)
    room = encrypted_room_class()(client, key, room_id, f"#{alias_local}:{seed.SERVER_NAME}", name, devices,
                                  rotate_every)
    room.room_version = seed.read_room_version(client, owner, room_id)
    for u in joiners:
        client.join(u, room_id)
    return room


ENC_SUBJECTS = ["The vault", "Our ledger", "The kestrel", "Operation Marmot", "The lighthouse keeper",
                "The orchard", "The quartz cluster", "The glacier survey", "The telescope", "Aunt Vera's recipe",
                "The harbour crane", "The lantern festival"]
ENC_VERBS = ["was sealed", "wants a second signature", "passed the audit", "drifted north", "glows at night",
             "was rekeyed", "hums quietly", "arrived by ferry", "is under the floorboards", "smells of cinnamon"]
ENC_TAILS = ["", " 🔐", " — ключ у меня", ", façade intact", "!", ". Tell nobody.", " (whisper)", " 🗝️",
             " :: 秘密のメモ", ", bis morgen."]


def ciphernote(rng, i):
    return f"ciphernote {i}: {rng.choice(ENC_SUBJECTS)} {rng.choice(ENC_VERBS)}{rng.choice(ENC_TAILS)}"


def fill_encrypted(room, users, rng, start, count):
    ids = []
    for i in range(start, start + count):
        user = users[i % 2] if rng.random() < 0.8 else rng.choice(users)
        ids.append(room.say(user, ciphernote(rng, i)))
    return ids


def seed_encrypted_room(client, alice, bob, devices, rng, out_dir, n_messages=2000, rotate_every=200):
    """Room "encrypted": >= n_messages megolm messages over several sessions per sender (rotated every
    `rotate_every` events of a sender), edits, a thread, reactions, a reply, a redaction and an
    encrypted image. Returns (room, image truth)."""
    seed = _seed()
    room = create_encrypted_room(client, alice, "encrypted", "Encrypted room", "encrypted", devices,
                                 joiners=[bob], rotate_every=rotate_every)
    users = [alice, bob]
    own = lambda ids, u: [e for e in ids if room.by_id[e]["sender"] == u.user_id]  # noqa: E731
    i = 0

    def chunk(n):
        nonlocal i
        new = fill_encrypted(room, users, rng, i, n)
        i += n
        return new

    first = chunk(60)
    room.edit(alice, own(first, alice)[0], "first encrypted alice message, edited")
    twice = own(first, alice)[1]
    room.edit(alice, twice, "encrypted: edited once")
    time.sleep(0.01)
    room.edit(alice, twice, "encrypted: edited twice (this one wins)")
    room.edit(bob, own(first, alice)[2], "bob was here (invalid encrypted edit)")
    liked = own(first, bob)[1]
    room.react(alice, liked, "👍")
    room.react(bob, liked, "👍")
    room.react(alice, liked, "🎉")
    gone = room.react(bob, own(first, alice)[3], "😮")
    room.redact(bob, gone["event_id"])
    room.reply(bob, own(first, alice)[4], "encrypted: replying to alice")

    # The encrypted image, with an encrypted thumbnail.
    png = make_png(64, 40, rng)
    thumb = make_png(16, 10, rng)
    png_ct, png_file = encrypt_attachment(png)
    thumb_ct, thumb_file = encrypt_attachment(thumb)
    png_file = {"url": upload(client, alice, png_ct, "photo.png"), **png_file}
    thumb_file = {"url": upload(client, alice, thumb_ct, "thumbnail.png"), **thumb_file}
    image_content = {
        "msgtype": "m.image", "body": "photo.png", "file": png_file,
        "info": {"mimetype": "image/png", "size": len(png), "w": 64, "h": 40, "thumbnail_file": thumb_file,
                 "thumbnail_info": {"mimetype": "image/png", "size": len(thumb), "w": 16, "h": 10}},
    }
    image_id = room.say(alice, "photo.png", image_content)
    png_path = os.path.join(out_dir, "photo.png")
    thumb_path = os.path.join(out_dir, "photo-thumbnail.png")
    write_private(png_path, png)
    write_private(thumb_path, thumb)
    image = {"event_id": image_id, "sha256": hashlib.sha256(png).hexdigest(), "size": len(png),
             "thumbnail_sha256": hashlib.sha256(thumb).hexdigest(), "thumbnail_size": len(thumb),
             "plaintext_path": png_path, "thumbnail_plaintext_path": thumb_path,
             "url": png_file["url"], "thumbnail_url": thumb_file["url"]}

    mid = chunk(340)
    root = room.say(alice, "encrypted thread root: where do we keep the spare keys?")
    room.thread([bob, alice], root, 5, "encrypted thread")
    doomed = own(mid, bob)[0]
    room.redact(bob, doomed)
    edited_then_gone = own(mid, alice)[0]
    room.edit(alice, edited_then_gone, "this encrypted edit goes away with its original")
    room.redact(alice, edited_then_gone)

    remaining = n_messages - len(room.messages) - 1
    if remaining > 0:
        chunk(remaining)
    # An edit sent in a much later session than its original.
    room.edit(alice, own(first, alice)[5], "encrypted: edited many sessions later")
    room.react(bob, own(first, alice)[5], "👍")
    seed_hostile_edits(room, alice)
    room.say(bob, f"ciphernote {i}: last message of the encrypted room")
    return room, image


# --- hostile edits in the encrypted room (issue 9.3) ------------------------------------------------

def seed_hostile_edits(room, alice):
    """Edits of encrypted messages that break the spec's rules (Event replacements; End-to-end encryption:
    the relation is the clear m.relates_to, the payload's own is ignored), each aimed at a fresh message of
    alice's so that no other rule is what rejects it. Recorded in the room's truth as "hostile_edits";
    the edit records say which edits are valid, so "messages" holds the expected bodies and edits."""
    seed = _seed()
    client = room.client
    cases = {}

    def edit_content(new_body, target=None):
        c = seed.text_content("* " + new_body)
        c["m.new_content"] = seed.text_content(new_body)
        if target is not None:
            c["m.relates_to"] = {"rel_type": "m.replace", "event_id": target}
        return c

    def record_edit(event_id, target, new_body):
        # new_body None: an invalid edit (the truth's rule for "edits" skips it).
        room.edit_events.append({"event_id": event_id, "sender": alice.user_id, "target": target,
                                 "new_body": new_body, "ts": None})

    # 1. A plaintext m.room.message replacing an encrypted message: invalid, kept as its own event.
    target = room.say(alice, "hostile edits: an encrypted message that a plaintext edit tries to replace")
    forged = "hostile edits: forged by a plaintext edit"
    eid = client.send(alice, room.room_id, "m.room.message", edit_content(forged, target))
    record_edit(eid, target, None)
    cases["plaintext_edit"] = {"event_id": eid, "target": target, "forged_body": forged}

    # 2. An encrypted edit whose clear content carries another m.new_content than its payload: the
    #    payload's applies. And one whose payload has no m.new_content at all: invalid, whatever the clear says.
    target = room.say(alice, "hostile edits: an encrypted message edited with a false clear m.new_content")
    real, planted = "hostile edits: the real encrypted edit", "hostile edits: planted in the clear"
    enc, s, index = room.encrypt(alice, "m.room.message", edit_content(real, target))
    enc["m.new_content"] = seed.text_content(planted)
    eid = room.send_encrypted(alice, enc, s, index)
    record_edit(eid, target, real)
    cases["clear_new_content"] = {"event_id": eid, "target": target, "planted_body": planted, "body": real}
    target = room.say(alice, "hostile edits: an encrypted message whose edit has m.new_content only in the clear")
    payload = seed.text_content("* hostile edits: no m.new_content inside")
    payload["m.relates_to"] = {"rel_type": "m.replace", "event_id": target}
    enc, s, index = room.encrypt(alice, "m.room.message", payload)
    enc["m.new_content"] = seed.text_content(planted)
    eid = room.send_encrypted(alice, enc, s, index)
    record_edit(eid, target, None)
    cases["clear_only_new_content"] = {"event_id": eid, "target": target, "planted_body": planted}

    # 3. m.replace only inside the payload: not an edit but a message of its own (which alice then edits
    #    validly: an event is an edit only by its clear relation, so this one may be edited).
    target = room.say(alice, "hostile edits: an encrypted message named only by a payload m.replace")
    hijack = "hostile edits: payload-only replacement"
    enc, s, index = room.encrypt(alice, "m.room.message", edit_content(hijack, target))
    del enc["m.relates_to"]
    eid = room.send_encrypted(alice, enc, s, index)
    room._add_message(eid, alice, "* " + hijack)
    fixed = "hostile edits: the payload-only message, edited"
    cases["payload_only_replace"] = {"event_id": eid, "target": target,
                                     "edit_event_id": room.edit(alice, eid, fixed), "body": fixed}

    # 4. The payload's m.replace names another message than the clear one (a server moved a genuine edit
    #    of the decoy onto the target by rewriting its clear relation): no one's edit, neither message changes.
    target = room.say(alice, "hostile edits: the message the clear relation of an edit names")
    decoy = room.say(alice, "hostile edits: the message only the payload relation names")
    moved = "hostile edits: an edit of the decoy moved onto the clear target"
    enc, s, index = room.encrypt(alice, "m.room.message", edit_content(moved, decoy))
    enc["m.relates_to"] = {"rel_type": "m.replace", "event_id": target}
    eid = room.send_encrypted(alice, enc, s, index)
    record_edit(eid, target, None)
    cases["payload_names_other_target"] = {"event_id": eid, "target": target, "payload_target": decoy,
                                           "moved_body": moved}
    room.extra["hostile_edits"] = cases
    return cases


def verify_hostile_edits(room_truth, events, plain):
    """--verify for seed_hostile_edits: the server holds each case as the truth describes it, read back and
    decrypted by libolm. `plain` maps event id -> (session id, decrypted plaintext). Returns what it checked."""
    cases = room_truth["hostile_edits"]
    by_id = {ev["event_id"]: ev for ev in events}
    messages = {m["event_id"]: m for m in room_truth["messages"]}
    replace = lambda target: {"rel_type": "m.replace", "event_id": target}  # noqa: E731

    case = cases["plaintext_edit"]
    ev = by_id[case["event_id"]]
    assert ev["type"] == "m.room.message" and ev["content"]["m.relates_to"] == replace(case["target"])
    assert ev["content"]["m.new_content"]["body"] == case["forged_body"]
    assert messages[case["target"]]["edits"] == [] and messages[case["target"]]["body"] != case["forged_body"]

    case = cases["clear_new_content"]
    clear, (_, p) = by_id[case["event_id"]]["content"], plain[case["event_id"]]
    assert clear["m.new_content"]["body"] == case["planted_body"] != p["content"]["m.new_content"]["body"] == case["body"]
    assert messages[case["target"]]["body"] == case["body"]
    assert messages[case["target"]]["replaced_by"] == case["event_id"]

    case = cases["clear_only_new_content"]
    clear, (_, p) = by_id[case["event_id"]]["content"], plain[case["event_id"]]
    assert clear["m.new_content"]["body"] == case["planted_body"] and "m.new_content" not in p["content"]
    assert messages[case["target"]]["edits"] == []

    case = cases["payload_only_replace"]
    clear, (_, p) = by_id[case["event_id"]]["content"], plain[case["event_id"]]
    assert "m.relates_to" not in clear and p["content"]["m.relates_to"] == replace(case["target"])
    assert messages[case["target"]]["edits"] == []
    assert messages[case["event_id"]]["edits"] == [case["edit_event_id"]] and messages[case["event_id"]]["body"] == case["body"]

    case = cases["payload_names_other_target"]
    clear, (_, p) = by_id[case["event_id"]]["content"], plain[case["event_id"]]
    assert clear["m.relates_to"] == replace(case["target"]) and p["content"]["m.relates_to"] == replace(case["payload_target"])
    assert p["content"]["m.new_content"]["body"] == case["moved_body"]
    assert messages[case["target"]]["edits"] == [] and messages[case["payload_target"]]["edits"] == []
    return {cases[k]["event_id"] for k in ("payload_only_replace", "payload_names_other_target")}


def seed_sender_key_cases(room, sender, owner_of_session, rng):
    """Issue 9.8: events whose megolm session does not belong to a device of their sender. One sent by
    `sender` but encrypted in a session of `owner_of_session`'s device (mismatch: the session key belongs to
    another user's device); one sent by `sender` from a device whose keys were never uploaded (unknown).
    Both sessions go into the backup like every other session of the room. Returns {event id: expected
    sender-key status}."""
    expected = {}
    borrowed = Session(room.devices[owner_of_session.user_id], room.room_id)
    ghost = Session(Device(sender.user_id, "GHOST" + random_alnum(6).upper()), room.room_id)
    for session, status, body in (
            (borrowed, "mismatch", "sender keys: sent by one user in another user's session"),
            (ghost, "unknown", "sender keys: sent from a device that never uploaded its keys")):
        room.sessions.append(session)
        enc, index = session.encrypt("m.room.message", _seed().text_content(body), room.room_id)
        event_id = room.send_encrypted(sender, enc, session, index)
        room._add_message(event_id, sender, body)
        expected[event_id] = status
    return expected


def sender_key_truth(room, exceptions):
    """The sender-key status expected for every event of the room's sessions: `verified` (the session's
    device belongs to the sender, whose keys were uploaded) unless listed in `exceptions`."""
    return {event_id: exceptions.get(event_id, "verified") for s in room.sessions for event_id in s.events}


def seed_hostile_room(client, carol, devices, other_room_id):
    """Room "hostile" (carol's): events that must end in each failure status. Returns (room, expect,
    plaintext bodies of the events expected ok, sessions h1, h2, h3)."""
    seed = _seed()
    room = create_encrypted_room(client, carol, "hostile", "Hostile room", "hostile", devices)
    expect = {}
    bodies = {}

    def ok(body):
        eid = room.say(carol, body)
        expect[eid] = "ok"
        bodies[eid] = body
        return eid

    h1 = room.new_session(carol)
    h1_ids = [ok(f"hostile: normal message {k} in session one") for k in range(4)]
    # The same ciphertext (session H1, index 1) again under another event id: a replay.
    original = h1_ids[1]
    replay = client.send(carol, room.room_id, "m.room.encrypted", copy.deepcopy(room.sent_content[original]))
    h1.events.append(replay)
    h1.indexes[replay] = h1.indexes[original]
    room.session_of[replay] = h1
    room._add_message(replay, carol, room.by_id[original]["orig_body"])
    expect[replay] = "replay"
    # A message whose plaintext claims another room.
    body = "hostile: this plaintext claims to belong to the encrypted room"
    enc, s, index = room.encrypt(carol, "m.room.message", seed.text_content(body), plaintext_room_id=other_room_id)
    mismatch = room.send_encrypted(carol, enc, s, index)
    room._add_message(mismatch, carol, body)
    expect[mismatch] = "room_mismatch"
    # Garbage ciphertexts under H1's session id: one not base64 at all, one base64 of bytes that are no
    # megolm message.
    failed = []
    for garbage in ("!!! this is not base64 !!!", b64(b"\x00" + os.urandom(80))):
        eid = client.send(carol, room.room_id, "m.room.encrypted", h1.wrap(garbage))
        expect[eid] = "failed"
        failed.append(eid)
    ok("hostile: session one goes on after the garbage")

    h2 = room.new_session(carol)
    for k in range(2):
        expect[room.say(carol, f"hostile: session two message {k} (its backup entry is tampered)")] = "missing_key"

    h3 = room.new_session(carol)
    for k in range(6):
        body = f"hostile: session three message {k}"
        if k < 3:
            expect[room.say(carol, body)] = "unknown_index"
        else:
            ok(body)
    room.extra["failed_events"] = failed
    return room, expect, bodies, (h1, h2, h3)


# --- accounts: backups and secret storage -------------------------------------------------------

def put_account_data(client, user, event_type, content):
    path = f"/_matrix/client/v3/user/{client.q(user.user_id)}/account_data/{client.q(event_type)}"
    client.request("PUT", path, content, user.token)


def create_backup(client, user, auth_data):
    res = client.request("POST", "/_matrix/client/v3/room_keys/version",
                         {"algorithm": BACKUP_ALGORITHM, "auth_data": auth_data}, user.token)
    return res["version"]


def upload_backup(client, user, version, entries):
    """entries: [(room_id, session_id, backup entry)]."""
    rooms = {}
    for room_id, session_id, entry in entries:
        rooms.setdefault(room_id, {"sessions": {}})["sessions"][session_id] = entry
    res = client.request("PUT", f"/_matrix/client/v3/room_keys/keys?version={client.q(version)}",
                         {"rooms": rooms}, user.token)
    if res.get("count") is not None and res["count"] < len(entries):
        raise RuntimeError(f"backup holds {res['count']} sessions, expected at least {len(entries)}")


def setup_modern(client, alice, sessions, missing):
    """Secret storage (passphrase-derived key) holding the backup key; the backup holds every session but
    `missing`. Returns the truth entry."""
    passphrase = "grüße aus dem tresor " + secrets.token_urlsafe(9)
    salt = random_alnum(32)
    ssss_key = pbkdf2_sha512(passphrase, salt, PBKDF2_ITERATIONS, 32)
    key_id = random_alnum(32)
    description = {"algorithm": SSSS_ALGORITHM,
                   "passphrase": {"algorithm": "m.pbkdf2", "salt": salt, "iterations": PBKDF2_ITERATIONS, "bits": 256}}
    description.update(ssss_key_check(ssss_key))
    put_account_data(client, alice, f"m.secret_storage.key.{key_id}", description)
    put_account_data(client, alice, "m.secret_storage.default_key", {"key": key_id})

    backup_key = X25519PrivateKey.generate().private_bytes_raw()
    public_key = b64(curve25519_public(backup_key))
    version = create_backup(client, alice, {"public_key": public_key})
    secret = ssss_encrypt(ssss_key, BACKUP_SECRET, b64(backup_key).encode("ascii"))
    put_account_data(client, alice, BACKUP_SECRET, {"encrypted": {key_id: secret}})
    entries = [(s.room_id, s.session_id, s.backup_entry(public_key)) for s in sessions if s is not missing]
    # Cheap proof on the real data that the backup decrypts (the full round trips are in --self-check).
    json.loads(pk_decrypt_reference(backup_key, entries[0][2]["session_data"]))
    assert ssss_decrypt(ssss_key, BACKUP_SECRET, secret) == b64(backup_key).encode("ascii")
    upload_backup(client, alice, version, entries)
    return {"user": "alice", "recovery_key": encode_recovery_key(ssss_key), "passphrase": passphrase,
            "backup_version": version, "ssss_key_id": key_id, "backup_public_key": public_key}


def setup_legacy(client, carol, h1, h2, h3, late_index):
    """A backup whose key is derived from a passphrase (no secret storage); holds H1, H2 with a tampered
    MAC and H3 exported at `late_index`."""
    passphrase = "carol's old backup passphrase " + secrets.token_urlsafe(9)
    salt = random_alnum(32)
    backup_key = pbkdf2_sha512(passphrase, salt, PBKDF2_ITERATIONS, 32)
    public_key = b64(curve25519_public(backup_key))
    version = create_backup(client, carol, {"public_key": public_key, "private_key_salt": salt,
                                            "private_key_iterations": PBKDF2_ITERATIONS, "private_key_bits": 256})
    e2 = h2.backup_entry(public_key)
    e2["session_data"] = tamper_mac(e2["session_data"])
    try:
        pk_decrypt_reference(backup_key, e2["session_data"])
        raise AssertionError("the tampered session_data still decrypts")
    except ValueError:
        pass
    upload_backup(client, carol, version, [
        (h1.room_id, h1.session_id, h1.backup_entry(public_key)),
        (h2.room_id, h2.session_id, e2),
        (h3.room_id, h3.session_id, h3.backup_entry(public_key, late_index)),
    ])
    return {"user": "carol", "recovery_key": encode_recovery_key(backup_key), "passphrase": passphrase,
            "backup_version": version, "backup_public_key": public_key}


def seed_test(client, secret, alice, bob, rng, out_dir):
    """The test profile's encrypted part. Returns (users to add to the truth, rooms, the "e2e" entry)."""
    seed = _seed()
    t0 = time.monotonic()
    carol = seed.User("carol", "Carol")
    seed.register(client, secret, carol)
    devices = {}
    for u in (alice, bob, carol):
        d = Device(u.user_id, u.device_id or "MXSEEDER")
        client.request("POST", "/_matrix/client/v3/keys/upload", {"device_keys": d.device_keys()}, u.token)
        devices[u.user_id] = d

    enc, image = seed_encrypted_room(client, alice, bob, devices, rng, out_dir)
    sender_key_cases = seed_sender_key_cases(enc, bob, alice, rng)
    log(f"encrypted room done ({len(enc.messages)} messages, {len(enc.sessions)} sessions, "
        f"{time.monotonic() - t0:.0f} s)")
    bob_sessions = [s for s in enc.sessions if s.device.user_id == bob.user_id]
    missing = bob_sessions[1] if len(bob_sessions) > 1 else enc.sessions[1]
    modern = setup_modern(client, alice, enc.sessions, missing)

    export_passphrase = "export " + secrets.token_urlsafe(12)
    export_path = os.path.join(out_dir, "keys-export.txt")
    write_private(export_path, key_export_text([missing.export_entry()], export_passphrase))

    hostile, expect, bodies, (h1, h2, h3) = seed_hostile_room(client, carol, devices, enc.room_id)
    late_index = 3
    legacy = setup_legacy(client, carol, h1, h2, h3, late_index)

    wrong = {"recovery_key_bad_parity": bad_parity_variant(modern["recovery_key"]),
             "recovery_key_unrelated": encode_recovery_key(os.urandom(32)),
             "passphrase": "not the passphrase " + secrets.token_urlsafe(6)}
    e2e = {
        "modern": modern,
        "legacy": legacy,
        "wrong": wrong,
        "encrypted": {
            "room_key": "encrypted",
            "sessions": [{"session_id": s.session_id, "sender": s.device.user_id, "sender_key": s.device.curve25519,
                          "events": list(s.events), "in_backup": s is not missing} for s in enc.sessions],
            "missing_session_id": missing.session_id,
            "sender_key_status": sender_key_truth(enc, sender_key_cases),
            "image": image,
        },
        "key_export": {"path": export_path, "passphrase": export_passphrase, "session_ids": [missing.session_id]},
        "hostile": {
            "room_key": "hostile",
            "expect": expect,
            "tampered_session_id": h2.session_id,
            "late_session_id": h3.session_id,
            "late_first_index": late_index,
            "plaintext_bodies": bodies,
            "sessions": {"h1": h1.session_id, "h2": h2.session_id, "h3": h3.session_id},
        },
    }
    log(f"e2e part done in {time.monotonic() - t0:.0f} s")
    return [carol], [enc, hostile], e2e


# --- offline bench corpus -----------------------------------------------------------------------

def make_corpus(n, room_id, sender, out_dir, passphrase, sessions=8, rounds=EXPORT_ROUNDS, seed_text="corpus"):
    """Writes an offline corpus of `n` megolm-encrypted m.room.message events in `room_id` from `sender`,
    spread evenly over `sessions` sessions (consecutive blocks), into `out_dir`:

      events.jsonl      one event per line, as /messages returns it: event_id, room_id, sender,
                        origin_server_ts, type "m.room.encrypted", content {algorithm, ciphertext,
                        session_id, sender_key, device_id}
      plaintexts.jsonl  one line per event, same order: event_id, session_id, message_index, body, and
                        "plaintext" (the decrypted JSON object {type, content, room_id})
      keys-export.txt   a key-export file (mode 0600) holding every session at index 0, for `passphrase`
      corpus.json       room_id, sender, sender_key, device_id, count, rounds, sessions [{session_id,
                        first_event_index, count}], the file names

    Returns the corpus.json object. 100,000 events take a few seconds."""
    os.makedirs(out_dir, exist_ok=True)
    rng = random.Random(f"{seed_text}:{room_id}:{n}")
    device = Device(sender, "MXCORPUS")
    sessions = max(1, min(sessions, n)) if n else 1
    per = -(-n // sessions) if n else 0
    ts0 = 1_700_000_000_000
    session_list = []
    current = None
    with open(os.path.join(out_dir, "events.jsonl"), "w", encoding="utf-8") as ev, \
            open(os.path.join(out_dir, "plaintexts.jsonl"), "w", encoding="utf-8") as pt:
        for i in range(n):
            if per and i % per == 0:
                current = Session(device, room_id)
                session_list.append({"session": current, "first_event_index": i, "count": 0})
            body = ciphernote(rng, i)
            content = {"msgtype": "m.text", "body": body}
            enc, index = current.encrypt("m.room.message", content, room_id)
            event_id = "$" + b64url(hashlib.sha256(f"{seed_text}:{room_id}:{i}".encode("utf-8")).digest())
            event = {"event_id": event_id, "room_id": room_id, "sender": sender, "origin_server_ts": ts0 + i * 1000,
                     "type": "m.room.encrypted", "content": enc}
            ev.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")
            pt.write(json.dumps({"event_id": event_id, "session_id": current.session_id, "message_index": index,
                                 "body": body, "plaintext": {"type": "m.room.message", "content": content,
                                                             "room_id": room_id}},
                                ensure_ascii=False, separators=(",", ":")) + "\n")
            session_list[-1]["count"] += 1
    write_private(os.path.join(out_dir, "keys-export.txt"),
                  key_export_text([s["session"].export_entry() for s in session_list], passphrase, rounds))
    manifest = {
        "room_id": room_id, "sender": sender, "sender_key": device.curve25519, "device_id": device.device_id,
        "count": n, "rounds": rounds,
        "sessions": [{"session_id": s["session"].session_id, "first_event_index": s["first_event_index"],
                      "count": s["count"]} for s in session_list],
        "files": {"events": "events.jsonl", "plaintexts": "plaintexts.jsonl", "key_export": "keys-export.txt"},
    }
    with open(os.path.join(out_dir, "corpus.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    return manifest


# --- self-check ---------------------------------------------------------------------------------

def libolm_pk_decryption(private_key):
    """A python-olm (libolm) PkDecryption built from a raw private key (python-olm has no API for that,
    so this calls libolm's olm_pk_key_from_private through python-olm's own binding)."""
    import olm
    from _libolm import ffi, lib

    obj = olm.PkDecryption.__new__(olm.PkDecryption)
    key_length = lib.olm_pk_key_length()
    pub = ffi.new("char[]", key_length)
    priv = ffi.new("char[]", private_key)
    ret = lib.olm_pk_key_from_private(obj._pk_decryption, pub, key_length, priv, len(private_key))
    obj._check_error(ret)
    obj.public_key = bytes(ffi.unpack(pub, key_length)).decode("ascii")
    return obj


def self_check():
    """Round-trips every format against an independent decoder. Exits non-zero on any failure."""
    import tempfile

    checks = []

    def ok(what):
        checks.append(what)
        print(f"ok  {what}")

    try:
        import olm  # python-olm: libolm itself
    except ImportError:
        olm = None
        print("note: python-olm is not installed; the libolm cross-checks are skipped")

    # Recovery keys.
    key = os.urandom(32)
    rk = encode_recovery_key(key)
    assert decode_recovery_key(rk) == key and decode_recovery_key(rk.replace(" ", "")) == key
    assert len(rk.replace(" ", "")) in (47, 48, 49) and rk.replace(" ", "")[0:2] == "Es"
    bad = bad_parity_variant(rk)
    try:
        decode_recovery_key(bad)
        raise AssertionError("bad parity accepted")
    except ValueError as e:
        assert "parity" in str(e)
    data = base58_decode(bad.replace(" ", ""))
    assert len(data) == 35 and data[:2] == RECOVERY_PREFIX
    ok("recovery key: encode/decode, spaces ignored, one changed character fails only the parity check")

    # Secret storage: passphrase and recovery key give the same key; key check; the backup secret.
    passphrase = "grüße " + secrets.token_urlsafe(6)
    salt = random_alnum(32)
    ssss_key = pbkdf2_sha512(passphrase, salt, PBKDF2_ITERATIONS, 32)
    desc = ssss_key_check(ssss_key)
    assert ssss_key_matches(decode_recovery_key(encode_recovery_key(ssss_key)), desc)
    assert not ssss_key_matches(os.urandom(32), desc)
    assert unb64(desc["iv"])[8] & 0x80 == 0
    # Independent recomputation of the key check with the standard library only.
    prk = hmac.new(bytes(32), ssss_key, hashlib.sha256).digest()
    okm = b""
    t = b""
    for i in range(2):
        t = hmac.new(prk, t + b"" + bytes([i + 1]), hashlib.sha256).digest()
        okm += t
    ct = aes_ctr(okm[:32], unb64(desc["iv"]), bytes(32))
    assert b64_padded(hmac.new(okm[32:], ct, hashlib.sha256).digest()) == desc["mac"]
    backup_key = os.urandom(32)
    item = ssss_encrypt(ssss_key, BACKUP_SECRET, b64(backup_key).encode())
    assert unb64(ssss_decrypt(ssss_key, BACKUP_SECRET, item).decode()) == backup_key
    try:
        ssss_decrypt(ssss_key, "m.cross_signing.master", item)
        raise AssertionError("secret decrypted under another name")
    except ValueError:
        pass
    ok("secret storage: PBKDF2 key == recovery key, key check MAC (recomputed with hashlib), secret round trip")

    # Backup session_data: vodozemac PkEncryption -> reference decrypt and libolm PkDecryption.
    dev = Device("@check:localhost", "CHECK")
    sess = Session(dev, "!room")
    enc, index = sess.encrypt("m.room.message", {"msgtype": "m.text", "body": "hello ünïcode 🔐"}, "!room")
    public_key = b64(curve25519_public(backup_key))
    entry = sess.backup_entry(public_key)
    sd = entry["session_data"]
    assert set(sd) == {"ephemeral", "ciphertext", "mac"} and not any(v.endswith("=") for v in sd.values())
    plain = json.loads(pk_decrypt_reference(backup_key, sd))
    assert plain["session_key"] == sess.session_key(0) and plain["sender_key"] == dev.curve25519
    try:
        pk_decrypt_reference(backup_key, tamper_mac(sd))
        raise AssertionError("tampered MAC accepted")
    except ValueError:
        pass
    ok("backup session_data: reference decrypt (X25519, HKDF, AES-CBC, MAC over the empty string)")
    if olm is not None:
        pk = libolm_pk_decryption(backup_key)
        assert pk.public_key == public_key
        raw = pk.decrypt(olm.PkMessage(sd["ephemeral"], sd["mac"], sd["ciphertext"]))
        assert json.loads(raw) == plain
        try:
            t = tamper_mac(sd)
            pk.decrypt(olm.PkMessage(t["ephemeral"], t["mac"], t["ciphertext"]))
            raise AssertionError("libolm accepted a tampered MAC")
        except olm.PkDecryptionError:
            pass
        igs = olm.InboundGroupSession.import_session(plain["session_key"])
        text, idx = igs.decrypt(enc["ciphertext"])
        assert idx == 0 and json.loads(text)["content"]["body"] == "hello ünïcode 🔐"
        # And a libolm PkEncryption result decrypts with the reference decoder (same MAC rule).
        m = olm.PkEncryption(public_key).encrypt("from libolm")
        assert pk_decrypt_reference(backup_key, {"ephemeral": m.ephemeral_key, "mac": m.mac,
                                                 "ciphertext": m.ciphertext}) == b"from libolm"
        ok("backup session_data: libolm PkDecryption from the raw private key decrypts it and refuses a "
           "tampered MAC; libolm imports the session key and decrypts the megolm message")

    # Late export (first known index 3).
    for k in range(5):
        sess.encrypt("m.room.message", {"msgtype": "m.text", "body": f"m{k}"}, "!room")
    late = sess.session_key(3)
    if olm is not None:
        igs = olm.InboundGroupSession.import_session(late)
        assert igs.first_known_index == 3
        ok("late export: libolm's first known index is 3")

    # Key-export file.
    with tempfile.TemporaryDirectory() as tmp:
        exp_pass = "export " + secrets.token_urlsafe(6)
        text = key_export_text([sess.export_entry()], exp_pass)
        lines = text.splitlines()
        assert lines[0] == EXPORT_HEADER and lines[-1] == EXPORT_TRAILER and text.endswith("\n")
        assert all(len(ln) == 96 for ln in lines[1:-2])
        data = base64.b64decode("".join(lines[1:-1]))
        assert data[0] == 1 and struct.unpack(">I", data[33:37])[0] == EXPORT_ROUNDS and data[17 + 8] & 0x80 == 0
        # Independent decoder: hashlib PBKDF2 + HMAC, then AES-CTR.
        dk = hashlib.pbkdf2_hmac("sha512", exp_pass.encode(), data[1:17], EXPORT_ROUNDS, 64)
        assert hmac.new(dk[32:], data[:-32], hashlib.sha256).digest() == data[-32:]
        sessions = json.loads(aes_ctr(dk[:32], data[17:33], data[37:-32]))
        assert sessions[0]["session_id"] == sess.session_id and sessions[0]["room_id"] == "!room"
        try:
            read_key_export(text, "wrong passphrase")
            raise AssertionError("wrong passphrase accepted")
        except ValueError:
            pass
        if olm is not None:
            igs = olm.InboundGroupSession.import_session(sessions[0]["session_key"])
            assert igs.id == sess.session_id
            assert json.loads(igs.decrypt(enc["ciphertext"])[0])["room_id"] == "!room"
        ok("key-export file: layout, HMAC, PBKDF2-SHA-512; libolm imports its session and decrypts a message")

        # Attachments.
        png = make_png(64, 40, random.Random(1))
        assert png.startswith(b"\x89PNG") and 2000 < len(png) < 12000
        ct_bytes, info = encrypt_attachment(png)
        assert unb64(info["iv"])[8:] == bytes(8) and len(unb64(info["key"]["k"])) == 32
        assert "=" not in info["key"]["k"] and "+" not in info["key"]["k"] and "/" not in info["key"]["k"]
        assert decrypt_attachment(ct_bytes, info) == png
        ok(f"encrypted attachment v2: {len(png)}-byte PNG round trip, hash of the ciphertext, JWK")

        # The bench corpus: every event decrypts with libolm from the export file.
        t0 = time.monotonic()
        manifest = make_corpus(2000, "!corpus:localhost", "@bench:localhost", tmp, exp_pass, sessions=5,
                               rounds=1000)
        t_make = time.monotonic() - t0
        with open(os.path.join(tmp, "keys-export.txt"), encoding="utf-8") as f:
            exported = read_key_export(f.read(), exp_pass)
        assert len(exported) == 5 == len(manifest["sessions"])
        if olm is not None:
            inbound = {e["session_id"]: olm.InboundGroupSession.import_session(e["session_key"]) for e in exported}
            with open(os.path.join(tmp, "events.jsonl"), encoding="utf-8") as ev, \
                    open(os.path.join(tmp, "plaintexts.jsonl"), encoding="utf-8") as pt:
                count = 0
                for line_e, line_p in zip(ev, pt):
                    e, p = json.loads(line_e), json.loads(line_p)
                    assert e["event_id"] == p["event_id"]
                    text, idx = inbound[e["content"]["session_id"]].decrypt(e["content"]["ciphertext"])
                    assert json.loads(text) == p["plaintext"] and idx == p["message_index"]
                    count += 1
            assert count == 2000
            ok(f"bench corpus: 2000 events made in {t_make:.2f} s; all decrypt with libolm from the export file")
    print(f"{len(checks)} passed, 0 failed")


# --- verification against the seeded homeserver -------------------------------------------------

def verify_seeded(seed_path):
    """Checks the seeded homeserver against the truth file as a client would, with libolm (python-olm)
    decrypting: secret storage, both backups, the key-export file, every encrypted event, the image and
    the expected status of every event of the hostile room. Prints no secret."""
    import urllib.parse
    import urllib.request

    import olm

    with open(seed_path, encoding="utf-8") as f:
        truth = json.load(f)
    base = truth["homeserver"]
    e2e = truth["e2e"]
    checks = []

    def ok(what):
        checks.append(what)
        print(f"ok  {what}")

    def call(method, path, token=None, body=None, raw=False):
        req = urllib.request.Request(base + path, method=method,
                                     data=None if body is None else json.dumps(body).encode())
        if token:
            req.add_header("Authorization", "Bearer " + token)
        if body is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=60) as resp:
            data = resp.read()
        return data if raw else json.loads(data)

    def login(name):
        u = truth["users"][name]
        return call("POST", "/_matrix/client/v3/login", body={
            "type": "m.login.password", "identifier": {"type": "m.id.user", "user": u["user_id"]},
            "password": u["password"]})["access_token"]

    def account_data(token, user_id, event_type):
        q = urllib.parse.quote
        return call("GET", f"/_matrix/client/v3/user/{q(user_id, safe='')}/account_data/{q(event_type, safe='')}",
                    token)

    def all_events(token, room_id):
        q = urllib.parse.quote(room_id, safe="")
        out, frm = [], None
        while True:
            path = f"/_matrix/client/v3/rooms/{q}/messages?dir=f&limit=1000"
            if frm:
                path += "&from=" + urllib.parse.quote(frm, safe="")
            page = call("GET", path, token)
            out += page["chunk"]
            if not page.get("end") or not page["chunk"]:
                return out
            frm = page["end"]

    def backup_sessions(token, private_key):
        version = call("GET", "/_matrix/client/v3/room_keys/version", token)
        pk = libolm_pk_decryption(private_key)
        assert pk.public_key == version["auth_data"]["public_key"], "backup key does not match auth_data"
        keys = call("GET", f"/_matrix/client/v3/room_keys/keys?version={version['version']}", token)
        good, bad = {}, []
        for room in keys["rooms"].values():
            for sid, entry in room["sessions"].items():
                sd = entry["session_data"]
                try:
                    data = json.loads(pk.decrypt(olm.PkMessage(sd["ephemeral"], sd["mac"], sd["ciphertext"])))
                except olm.PkDecryptionError:
                    bad.append(sid)
                    continue
                igs = olm.InboundGroupSession.import_session(data["session_key"])
                assert igs.id == sid and igs.first_known_index == entry["first_message_index"]
                good[sid] = igs
        return version, good, bad

    # Alice: secret storage -> backup key -> backup.
    modern = e2e["modern"]
    alice = login(modern["user"])
    alice_id = truth["users"][modern["user"]]["user_id"]
    key_id = account_data(alice, alice_id, "m.secret_storage.default_key")["key"]
    assert key_id == modern["ssss_key_id"]
    desc = account_data(alice, alice_id, f"m.secret_storage.key.{key_id}")
    ssss_key = decode_recovery_key(modern["recovery_key"])
    assert ssss_key_matches(ssss_key, desc)
    pp = desc["passphrase"]
    assert pbkdf2_sha512(modern["passphrase"], pp["salt"], pp["iterations"], pp["bits"] // 8) == ssss_key
    assert not ssss_key_matches(pbkdf2_sha512(e2e["wrong"]["passphrase"], pp["salt"], pp["iterations"], 32), desc)
    assert not ssss_key_matches(decode_recovery_key(e2e["wrong"]["recovery_key_unrelated"]), desc)
    try:
        decode_recovery_key(e2e["wrong"]["recovery_key_bad_parity"])
        raise AssertionError("bad parity accepted")
    except ValueError:
        pass
    secret = account_data(alice, alice_id, BACKUP_SECRET)["encrypted"][key_id]
    backup_key = unb64(ssss_decrypt(ssss_key, BACKUP_SECRET, secret).decode("ascii"))
    version, alice_sessions, bad = backup_sessions(alice, backup_key)
    assert version["version"] == modern["backup_version"] and not bad
    enc_truth = e2e["encrypted"]
    assert set(alice_sessions) == {s["session_id"] for s in enc_truth["sessions"] if s["in_backup"]}
    ok(f"alice: recovery key and passphrase open secret storage; wrong inputs refused; backup v{version['version']} "
       f"holds {len(alice_sessions)} sessions, all decrypted by libolm")

    # The key-export file adds the missing session.
    kx = e2e["key_export"]
    with open(kx["path"], encoding="utf-8") as f:
        exported = read_key_export(f.read(), kx["passphrase"])
    assert [e["session_id"] for e in exported] == kx["session_ids"] == [enc_truth["missing_session_id"]]
    for e in exported:
        alice_sessions[e["session_id"]] = olm.InboundGroupSession.import_session(e["session_key"])
    ok("key-export file: the missing session")

    # Every encrypted event of room "encrypted" decrypts, and the truth matches the plaintexts.
    room = truth["rooms"][enc_truth["room_key"]]
    events = all_events(alice, room["room_id"])
    plain = {}
    for ev in events:
        if ev["type"] != "m.room.encrypted" or not ev["content"]:
            continue
        c = ev["content"]
        text, _ = alice_sessions[c["session_id"]].decrypt(c["ciphertext"])
        p = json.loads(text)
        assert p["room_id"] == room["room_id"]
        plain[ev["event_id"]] = (c["session_id"], p)
    # The payload relation matches the clear one, but for the hostile edits that make them differ on purpose.
    differing = verify_hostile_edits(room, events, plain)
    ok("room encrypted: hostile edits (plaintext edit, clear m.new_content, payload-only relations) as the truth says")
    clear_of = {ev["event_id"]: ev["content"] for ev in events}
    for event_id, (_, p) in plain.items():
        if "m.relates_to" in p["content"] and event_id not in differing:
            assert clear_of[event_id].get("m.relates_to") == p["content"]["m.relates_to"], event_id
    session_of = {e: s["session_id"] for s in enc_truth["sessions"] for e in s["events"]}
    for m in room["messages"]:
        if m["redacted"]:
            assert m["event_id"] not in plain
            continue
        sid, p = plain[m["event_id"]]
        assert sid == m["session_id"] == session_of[m["event_id"]] and p["type"] == "m.room.message"
        body = plain[m["replaced_by"]][1]["content"]["m.new_content"]["body"] if m["replaced_by"] else p["content"]["body"]
        assert body == m["body"], (m["event_id"], body, m["body"])
    for e in room["reaction_events"]:
        if e in plain:
            assert plain[e][1]["type"] == "m.reaction"
    ok(f"room encrypted: {len(plain)} events decrypted by libolm; bodies, edits and sessions match the truth")

    img = enc_truth["image"]
    content = plain[img["event_id"]][1]["content"]
    for file_info, digest, size in ((content["file"], img["sha256"], img["size"]),
                                    (content["info"]["thumbnail_file"], img["thumbnail_sha256"], None)):
        server, media_id = file_info["url"][len("mxc://"):].split("/", 1)
        data = call("GET", f"/_matrix/client/v1/media/download/{server}/{media_id}", alice, raw=True)
        clear = decrypt_attachment(data, file_info)
        assert hashlib.sha256(clear).hexdigest() == digest and (size is None or len(clear) == size)
    with open(img["plaintext_path"], "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == img["sha256"]
    ok("encrypted image and thumbnail: downloaded, hash checked, decrypted")

    # Carol: the legacy backup and the hostile room.
    legacy = e2e["legacy"]
    carol = login(legacy["user"])
    version = call("GET", "/_matrix/client/v3/room_keys/version", carol)
    ad = version["auth_data"]
    derived = pbkdf2_sha512(legacy["passphrase"], ad["private_key_salt"], ad["private_key_iterations"],
                            ad["private_key_bits"] // 8)
    assert derived == decode_recovery_key(legacy["recovery_key"])
    version, carol_sessions, bad = backup_sessions(carol, derived)
    h = e2e["hostile"]
    assert bad == [h["tampered_session_id"]] and carol_sessions[h["late_session_id"]].first_known_index == h["late_first_index"]
    ok("carol: passphrase-derived backup key == recovery key; tampered entry refused by libolm; late entry at index 3")

    hroom = truth["rooms"][h["room_key"]]
    seen = {}
    got = {}
    bodies = {}
    for ev in all_events(carol, hroom["room_id"]):
        if ev["type"] != "m.room.encrypted":
            continue
        c = ev["content"]
        igs = carol_sessions.get(c["session_id"])
        if igs is None:
            got[ev["event_id"]] = "missing_key"
            continue
        try:
            text, index = igs.decrypt(c["ciphertext"])
        except olm.OlmGroupSessionError as e:
            got[ev["event_id"]] = "unknown_index" if "UNKNOWN_MESSAGE_INDEX" in str(e) else "failed"
            continue
        p = json.loads(text)
        key = (c["session_id"], index)
        if key in seen and seen[key] != ev["event_id"]:
            got[ev["event_id"]] = "replay"
        elif p["room_id"] != hroom["room_id"]:
            got[ev["event_id"]] = "room_mismatch"
        else:
            got[ev["event_id"]] = "ok"
            bodies[ev["event_id"]] = p["content"]["body"]
        seen.setdefault(key, ev["event_id"])
    assert got == h["expect"], (got, h["expect"])
    assert bodies == h["plaintext_bodies"]
    ok(f"room hostile: libolm gives exactly the expected status of all {len(got)} events")
    print(f"{len(checks)} passed, 0 failed")


def main():
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--self-check", action="store_true")
    ap.add_argument("--verify", metavar="SEED_JSON", help="check a running seeded homeserver against its truth file")
    ap.add_argument("--corpus", type=int, metavar="N")
    ap.add_argument("--out-dir")
    ap.add_argument("--room-id", default="!bench-encrypted:localhost")
    ap.add_argument("--sender", default="@alice:localhost")
    ap.add_argument("--passphrase-file")
    args = ap.parse_args()
    if args.self_check:
        self_check()
    elif args.verify:
        verify_seeded(args.verify)
    elif args.corpus is not None:
        if not args.out_dir or not args.passphrase_file:
            ap.error("--corpus needs --out-dir and --passphrase-file")
        with open(args.passphrase_file, encoding="utf-8") as f:
            passphrase = f.read().rstrip("\n")
        t0 = time.monotonic()
        m = make_corpus(args.corpus, args.room_id, args.sender, args.out_dir, passphrase)
        log(f"{m['count']} events over {len(m['sessions'])} sessions in {time.monotonic() - t0:.1f} s "
            f"into {args.out_dir}")
    else:
        ap.print_help()


if __name__ == "__main__":
    main()
