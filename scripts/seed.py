#!/usr/bin/env python3
"""Seed a local Synapse with the rooms mxarchive's tests and demo run against.

    seed.py --homeserver URL --data-dir DIR --profile test|demo|bench --out FILE

Registers @alice:localhost and @bob:localhost through shared-secret registration (the secret is
read from DIR/registration_shared_secret, never printed), then builds the rooms of the profile
and writes the truth file FILE (mode 0600). Python 3 standard library only, except the test
profile's encrypted rooms: seed_e2e.py (vodozemac and cryptography, from Synapse's venv) registers
@carol:localhost, seeds rooms "encrypted" and "hostile", key backups, secret storage and a key-export
file, and adds the "e2e" section of the truth file (see its docstring).

Every expectation in the truth file is computed from what this script sent, never read back from
an archive. The rules it applies (README.md, "What normalised means"):

* "messages" lists every m.room.message the seeder sent that is a timeline item (not the edit
  events themselves), in send order, including thread replies, replies and redacted messages.
* "edits" are the ids of the VALID edits of a message, sorted: same sender as the original,
  m.new_content present (in an encrypted room: the edit is encrypted, m.new_content is inside its
  payload, its relation is the clear one, and a relation inside the payload names the same target
  and rel_type; see seed_hostile_edits in seed_e2e.py). "replaced_by" is the winner among them: greatest origin_server_ts
  (read back from the server), ties broken by the lexicographically greatest event id.
  "body" is the winner's m.new_content.body, else the original body.
* A redacted message has "body": null, "redacted": true, "edited": false, "replaced_by": null,
  "reactions": {} and "edits": [] (the spec: redacting an original removes it "including all
  subsequent edits").
* "reactions" maps a key to the number of distinct senders with a non-redacted m.annotation
  of that key (a sender who reacted twice with one key counts once).
* "in_reply_to" is the m.in_reply_to target of a real reply. For thread replies, whose
  m.in_reply_to is only a fallback (is_falling_back: true), it is null and "thread_root" is set.
* "threads" maps a root id to its reply count and latest reply id.
* In the encrypted rooms these rules apply to the plaintexts (decrypted type and content), and every
  message also has "session_id", the megolm session it was encrypted with.
"""

import argparse
import hashlib
import hmac
import http.client
import json
import os
import random
import secrets
import sys
import time
import urllib.parse

SERVER_NAME = "localhost"


def log(msg):
    print(f"seed: {msg}", file=sys.stderr, flush=True)


class MatrixError(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body

    @property
    def errcode(self):
        return self.body.get("errcode") if isinstance(self.body, dict) else None


class Client:
    """A keep-alive HTTP/1.1 client for one homeserver (plain http only)."""

    def __init__(self, base_url):
        u = urllib.parse.urlsplit(base_url)
        if u.scheme != "http":
            raise SystemExit("seed.py speaks plain http only")
        self.host = u.hostname
        self.port = u.port or 80
        self.conn = None
        self.txn = 0
        self.events_sent = 0
        self.t0 = time.monotonic()

    def _connect(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        return self.conn

    def request(self, method, path, body=None, token=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = "Bearer " + token
        attempt = 0
        while True:
            attempt += 1
            try:
                conn = self._connect()
                conn.request(method, path, body=data, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
                status = resp.status
            except (http.client.HTTPException, OSError) as e:
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt >= 8:
                    raise
                log(f"{method} {path.split('?')[0]}: {e!r}; retrying")
                time.sleep(min(0.2 * attempt, 2))
                continue
            try:
                payload = json.loads(raw) if raw else {}
            except ValueError:
                payload = {"raw": raw.decode("utf-8", "replace")}
            if status == 429 and attempt < 50:
                wait = payload.get("retry_after_ms", 500) / 1000 if isinstance(payload, dict) else 0.5
                time.sleep(max(wait, 0.05))
                continue
            if status >= 500 and attempt < 8:
                time.sleep(min(0.2 * attempt, 2))
                continue
            if status >= 400:
                raise MatrixError(status, payload)
            return payload

    # --- Matrix helpers ---------------------------------------------------------------------

    @staticmethod
    def q(s):
        return urllib.parse.quote(s, safe="")

    def next_txn(self):
        self.txn += 1
        return f"seed-{secrets.token_hex(6)}-{self.txn}"

    def _count_event(self):
        self.events_sent += 1
        if self.events_sent % 500 == 0:
            rate = self.events_sent / max(time.monotonic() - self.t0, 0.001)
            log(f"{self.events_sent} events sent ({rate:.0f}/s)")

    def send(self, user, room_id, event_type, content):
        path = f"/_matrix/client/v3/rooms/{self.q(room_id)}/send/{self.q(event_type)}/{self.next_txn()}"
        res = self.request("PUT", path, content, user.token)
        self._count_event()
        return res["event_id"]

    def state(self, user, room_id, event_type, state_key, content):
        path = f"/_matrix/client/v3/rooms/{self.q(room_id)}/state/{self.q(event_type)}/{self.q(state_key)}"
        res = self.request("PUT", path, content, user.token)
        self._count_event()
        return res["event_id"]

    def get_state(self, user, room_id, event_type, state_key=""):
        path = f"/_matrix/client/v3/rooms/{self.q(room_id)}/state/{self.q(event_type)}/{self.q(state_key)}"
        return self.request("GET", path, None, user.token)

    def redact(self, user, room_id, event_id, reason=None):
        path = f"/_matrix/client/v3/rooms/{self.q(room_id)}/redact/{self.q(event_id)}/{self.next_txn()}"
        res = self.request("PUT", path, {"reason": reason} if reason else {}, user.token)
        self._count_event()
        return res["event_id"]

    def get_event(self, user, room_id, event_id):
        path = f"/_matrix/client/v3/rooms/{self.q(room_id)}/event/{self.q(event_id)}"
        return self.request("GET", path, None, user.token)

    def join(self, user, room_id_or_alias):
        path = f"/_matrix/client/v3/join/{self.q(room_id_or_alias)}"
        res = self.request("POST", path, {}, user.token)
        self._count_event()
        return res["room_id"]

    def create_room(self, user, body):
        res = self.request("POST", "/_matrix/client/v3/createRoom", body, user.token)
        self.events_sent += 6  # create, member, power levels, join rules, history, name...
        return res["room_id"]


class User:
    def __init__(self, localpart, displayname):
        self.localpart = localpart
        self.displayname = displayname
        self.user_id = f"@{localpart}:{SERVER_NAME}"
        self.password = secrets.token_urlsafe(18)
        self.token = None
        self.device_id = None


def register(client, secret, user):
    nonce = client.request("GET", "/_synapse/admin/v1/register")["nonce"]
    mac = hmac.new(secret.encode("utf-8"), digestmod=hashlib.sha1)
    for part in (nonce, user.localpart, user.password, "notadmin"):
        if part != nonce:
            mac.update(b"\x00")
        mac.update(part.encode("utf-8"))
    client.request(
        "POST",
        "/_synapse/admin/v1/register",
        {
            "nonce": nonce,
            "username": user.localpart,
            "displayname": user.displayname,
            "password": user.password,
            "admin": False,
            "mac": mac.hexdigest(),
        },
    )
    res = client.request(
        "POST",
        "/_matrix/client/v3/login",
        {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user.localpart},
            "password": user.password,
            "initial_device_display_name": "mxarchive seeder",
        },
    )
    user.token = res["access_token"]
    user.device_id = res.get("device_id")


# --- text ---------------------------------------------------------------------------------------

SUBJECTS = ["The deploy", "Our backup job", "The release branch", "Alice's laptop", "The CI runner",
            "That flaky test", "The staging server", "Synapse", "The search index", "The new office",
            "Lunch on Friday", "The quarterly report", "My bike", "The coffee machine", "Project Heron"]
VERBS = ["broke again", "finished early", "needs another look", "is finally green", "ran out of disk",
         "was migrated to the new cluster", "got rescheduled", "looks fine to me", "is blocked on review",
         "took forty minutes", "survived the power cut", "needs a new owner", "is on fire", "got faster"]
TAILS = ["", " 🙂", " — see the ticket", ", any ideas?", "!", ". Not urgent.", " (again)", " 🎉",
         ", I'll check tomorrow.", ". Café at 3? ☕", " — naïve fix incoming", ", grüße aus Köln",
         " :: 日本語のテキストも", " #ops", " cc @bob"]
EXTRA = ["Also, the weather is terrible.", "Logs are in the usual place.", "Ping me if it recurs.",
         "I wrote it down in the wiki.", "We should automate this.", "Numbers: 3.14, 42, 1e6.",
         "Quote: \"measure twice, cut once\".", "Path: /var/lib/thing/data.db", "Emoji test: 🚀🔥✅"]


def message_text(rng, i):
    text = f"message {i}: {rng.choice(SUBJECTS)} {rng.choice(VERBS)}{rng.choice(TAILS)}"
    r = rng.random()
    if r < 0.15:
        text += " " + rng.choice(EXTRA)
    elif r < 0.20:
        text += "\n" + "\n".join(rng.choice(EXTRA) for _ in range(rng.randint(2, 4)))
    elif r < 0.22:
        text += " " + " ".join(rng.choice(EXTRA) for _ in range(30))  # a long one
    return text


def text_content(body):
    return {"msgtype": "m.text", "body": body}


# --- room model ---------------------------------------------------------------------------------

class Room:
    def __init__(self, client, key, room_id, alias, name):
        self.client = client
        self.key = key
        self.room_id = room_id
        self.alias = alias
        self.name = name
        self.room_version = None
        self.messages = []  # message records, in send order
        self.by_id = {}
        self.edit_events = []  # (record) {"event_id", "sender", "target", "new_body" or None, "ts"}
        self.reaction_events = []  # {"event_id", "sender", "target", "key", "redacted"}
        self.redaction_events = []
        self.extra = {}

    def send(self, user, event_type, content):
        """Sends one timeline event of the room (EncryptedRoom in seed_e2e.py encrypts it)."""
        return self.client.send(user, self.room_id, event_type, content)

    def _add_message(self, event_id, sender, body, in_reply_to=None, thread_root=None):
        rec = {"event_id": event_id, "sender": sender.user_id, "orig_body": body,
               "in_reply_to": in_reply_to, "thread_root": thread_root, "redacted": False}
        self.messages.append(rec)
        self.by_id[event_id] = rec
        return event_id

    def say(self, user, body, content=None):
        c = content if content is not None else text_content(body)
        return self._add_message(self.send(user, "m.room.message", c), user, body)

    def reply(self, user, target, body):
        c = text_content(body)
        c["m.relates_to"] = {"m.in_reply_to": {"event_id": target}}
        return self._add_message(self.send(user, "m.room.message", c), user, body,
                                 in_reply_to=target)

    def thread(self, users, root, n, label):
        previous = root
        for k in range(n):
            user = users[k % len(users)]
            body = f"{label} reply {k + 1} in thread"
            c = text_content(body)
            c["m.relates_to"] = {"rel_type": "m.thread", "event_id": root, "is_falling_back": True,
                                 "m.in_reply_to": {"event_id": previous}}
            previous = self._add_message(self.send(user, "m.room.message", c), user,
                                         body, thread_root=root)
        return previous

    def edit(self, user, target, new_body, with_new_content=True):
        c = text_content("* " + new_body)
        if with_new_content:
            c["m.new_content"] = text_content(new_body)
        c["m.relates_to"] = {"rel_type": "m.replace", "event_id": target}
        event_id = self.send(user, "m.room.message", c)
        self.edit_events.append({"event_id": event_id, "sender": user.user_id, "target": target,
                                 "new_body": new_body if with_new_content else None, "ts": None})
        return event_id

    def react(self, user, target, key):
        c = {"m.relates_to": {"rel_type": "m.annotation", "event_id": target, "key": key}}
        event_id = self.send(user, "m.reaction", c)
        rec = {"event_id": event_id, "sender": user.user_id, "target": target, "key": key, "redacted": False}
        self.reaction_events.append(rec)
        return rec

    def redact(self, user, target):
        event_id = self.client.redact(user, self.room_id, target, reason="seeded redaction")
        self.redaction_events.append(event_id)
        if target in self.by_id:
            self.by_id[target]["redacted"] = True
        for r in self.reaction_events:
            if r["event_id"] == target:
                r["redacted"] = True
        return event_id

    def set_state(self, user, event_type, content, state_key=""):
        return self.client.state(user, self.room_id, event_type, state_key, content)

    def truth(self, owner):
        """The room's entry in the truth file."""
        for e in self.edit_events:
            if e["ts"] is None:
                ev = self.client.get_event(owner, self.room_id, e["event_id"])
                e["ts"] = ev["origin_server_ts"]
        messages = []
        for m in self.messages:
            valid = [e for e in self.edit_events
                     if e["target"] == m["event_id"] and e["sender"] == m["sender"] and e["new_body"] is not None]
            winner = max(valid, key=lambda e: (e["ts"], e["event_id"])) if valid else None
            reactions = {}
            if not m["redacted"]:
                senders = {}
                for r in self.reaction_events:
                    if r["target"] == m["event_id"] and not r["redacted"]:
                        senders.setdefault(r["key"], set()).add(r["sender"])
                reactions = {k: len(v) for k, v in sorted(senders.items())}
            if m["redacted"]:
                body, edited, replaced_by = None, False, None
            elif winner is not None:
                body, edited, replaced_by = winner["new_body"], True, winner["event_id"]
            else:
                body, edited, replaced_by = m["orig_body"], False, None
            messages.append({
                "event_id": m["event_id"],
                "sender": m["sender"],
                "body": body,
                "edited": edited,
                "replaced_by": replaced_by,
                "edits": [] if m["redacted"] else sorted(e["event_id"] for e in valid),
                "reactions": reactions,
                "in_reply_to": m["in_reply_to"],
                "thread_root": m["thread_root"],
                "redacted": m["redacted"],
            })
        threads = {}
        for m in self.messages:
            if m["thread_root"]:
                t = threads.setdefault(m["thread_root"], {"reply_count": 0, "latest_event_id": None})
                t["reply_count"] += 1
                t["latest_event_id"] = m["event_id"]
        entry = {
            "room_id": self.room_id,
            "alias": self.alias,
            "room_version": self.room_version,
            "name": self.name,
            "messages": messages,
            "edit_events": [e["event_id"] for e in self.edit_events],
            "reaction_events": [r["event_id"] for r in self.reaction_events],
            "redaction_events": list(self.redaction_events),
            "threads": threads,
        }
        entry.update(self.extra)
        return entry


def make_room(client, owner, key, name, alias_local=None, topic=None, room_version=None,
              creation_content=None, joiners=()):
    body = {"preset": "public_chat", "name": name}
    if alias_local:
        body["room_alias_name"] = alias_local
    if topic:
        body["topic"] = topic
    if room_version:
        body["room_version"] = room_version
    if creation_content:
        body["creation_content"] = creation_content
    room_id = client.create_room(owner, body)
    alias = f"#{alias_local}:{SERVER_NAME}" if alias_local else None
    room = Room(client, key, room_id, alias, name)
    room.room_version = read_room_version(client, owner, room_id)
    for u in joiners:
        client.join(u, room_id)
    return room


def read_room_version(client, user, room_id):
    create = client.get_state(user, room_id, "m.room.create")
    return create.get("room_version", "1")


def fill(room, users, rng, start, count, label="message"):
    """Sends `count` plain messages from a mostly alternating pair of users."""
    ids = []
    for i in range(start, start + count):
        user = users[i % 2] if rng.random() < 0.8 else rng.choice(users)
        body = message_text(rng, i) if label == "message" else f"{label} {i}: {rng.choice(SUBJECTS)} {rng.choice(VERBS)}"
        ids.append(room.say(user, body))
    return ids


def try_duplicate_reaction(client, room, user, candidates, key):
    """Synapse refuses a second identical annotation from one sender (M_DUPLICATE_ANNOTATION), but
    only checks what is already persisted: two sends racing each other both get through. Tries a
    few targets until one ends up with two identical reactions; returns that target or None."""
    import threading

    for target in candidates:
        results = []
        barrier = threading.Barrier(3)

        def worker():
            c = Client(f"http://{client.host}:{client.port}")
            barrier.wait()
            try:
                eid = c.send(user, room.room_id, "m.reaction",
                             {"m.relates_to": {"rel_type": "m.annotation", "event_id": target, "key": key}})
                results.append(eid)
            except MatrixError as e:
                if e.errcode != "M_DUPLICATE_ANNOTATION":
                    raise
            finally:
                if c.conn:
                    c.conn.close()

        threads = [threading.Thread(target=worker) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for eid in results:
            room.reaction_events.append({"event_id": eid, "sender": user.user_id, "target": target,
                                         "key": key, "redacted": False})
        if len(results) >= 2:
            return target
    return None


# --- profiles -----------------------------------------------------------------------------------

def seed_big(client, alice, bob, rng, n_messages=3100):
    room = make_room(client, alice, "big", "Big room", alias_local="big",
                     topic="Everything about everything", joiners=[bob])
    users = [alice, bob]
    own = lambda ids, u: [e for e in ids if room.by_id[e]["sender"] == u.user_id]  # noqa: E731
    ids = []
    i = 0

    def chunk(n):
        nonlocal i
        new = fill(room, users, rng, i, n)
        i += n
        ids.extend(new)
        return new

    first = chunk(60)
    # Hostile HTML early, so the first pages contain it.
    room.say(alice, "hostile html test", {
        "msgtype": "m.text", "body": "hostile html test", "format": "org.matrix.custom.html",
        "formatted_body": '<script>alert(1)</script><img src=x onerror=alert(2)>'
                          '<a href="javascript:alert(3)">x</a>'})
    # Simple valid edits.
    a1 = own(first, alice)[0]
    room.edit(alice, a1, "first alice message, edited")
    b1 = own(first, bob)[0]
    room.edit(bob, b1, "first bob message, edited")
    # One message edited twice; the later edit wins.
    twice = own(first, alice)[2]
    room.edit(alice, twice, "edited once")
    time.sleep(0.01)
    room.edit(alice, twice, "edited twice (this one wins)")
    # Bob edits Alice's message: invalid, must not apply.
    room.edit(bob, own(first, alice)[3], "bob was here (invalid edit)")
    # An edit without m.new_content: invalid.
    room.edit(alice, own(first, alice)[4], "no new content (invalid edit)", with_new_content=False)
    # Reactions.
    liked = own(first, bob)[2]
    room.react(alice, liked, "👍")
    room.react(bob, liked, "👍")
    room.react(alice, liked, "🎉")
    # Alice 👍 twice on one message (Synapse normally refuses this; see try_duplicate_reaction).
    dup_target = try_duplicate_reaction(client, room, alice, own(first, bob)[3:8], "👍")
    room.duplicate_reaction_target = dup_target
    # A reaction that is then redacted.
    gone = room.react(bob, own(first, alice)[5], "😮")
    room.redact(bob, gone["event_id"])
    # Alice reacts, redacts it, and reacts again with the same key: counts once.
    again = room.react(alice, own(first, bob)[8], "❤️")
    room.redact(alice, again["event_id"])
    room.react(alice, own(first, bob)[8], "❤️")
    # Replies.
    room.reply(bob, own(first, alice)[6], "replying to alice")
    room.reply(alice, own(first, bob)[9], "replying to bob")

    chunk(400)
    # Two threads: 3 and 5 replies.
    root1 = room.say(alice, "thread root one: shall we discuss the migration here?")
    room.thread([bob, alice], root1, 3, "thread one")
    mid = chunk(40)
    root2 = room.say(bob, "thread root two: release checklist")
    room.thread([alice, bob], root2, 5, "thread two")
    # Redaction of a plain message.
    room.redact(alice, own(mid, alice)[0])
    # Redaction of an edited message.
    edited_then_gone = own(mid, bob)[0]
    room.edit(bob, edited_then_gone, "this edit will be redacted away with its original")
    room.redact(bob, edited_then_gone)

    chunk(600)
    # Bob changes his display name mid-room (member event in every room he is in).
    client.request("PUT", f"/_matrix/client/v3/profile/{client.q(bob.user_id)}/displayname",
                   {"displayname": "Bobby"}, bob.token)
    client._count_event()
    room.extra["display_names"] = {bob.user_id: ["Bob", "Bobby"]}
    chunk(300)
    room.set_state(alice, "m.room.topic", {"topic": "Topic changed halfway through"})
    chunk(300)

    # An edit of a message at least 1,200 events earlier (another /messages page).
    far_target = own(ids[200:260], alice)[0]
    far_index = next(k for k, m in enumerate(room.messages) if m["event_id"] == far_target)
    room.edit(alice, far_target, "edited much later, far away")
    assert len(room.messages) - far_index >= 1200
    room.react(bob, far_target, "👍")

    remaining = n_messages - len(room.messages)
    if remaining > 0:
        chunk(remaining)
    room.edit(bob, own(ids[-20:], bob)[0], "a late edit near the end")
    room.say(alice, f"message {i}: last message of the big room")
    return room


def seed_upgraded(client, alice, bob, rng):
    old = make_room(client, alice, "upgraded_old", "Upgraded room", alias_local="upgraded",
                    room_version="10", joiners=[bob])
    ids = fill(old, [alice, bob], rng, 0, 20, label="old room message")
    old.redact(alice, next(e for e in ids if old.by_id[e]["sender"] == alice.user_id))
    res = client.request("POST", f"/_matrix/client/v3/rooms/{client.q(old.room_id)}/upgrade",
                         {"new_version": "12"}, alice.token)
    client.events_sent += 10
    new_id = res["replacement_room"]
    client.join(bob, new_id)
    new = Room(client, "upgraded_new", new_id, "#upgraded:localhost", "Upgraded room")
    new.room_version = read_room_version(client, alice, new_id)
    old.alias = None  # the upgrade moves the alias to the new room
    ids = fill(new, [alice, bob], rng, 20, 20, label="new room message")
    new.redact(bob, next(e for e in ids if new.by_id[e]["sender"] == bob.user_id))
    old.extra["replacement_room"] = new_id
    new.extra["predecessor"] = old.room_id
    return old, new


def seed_space(client, alice, bob, rng):
    space = make_room(client, alice, "space", "Test space", alias_local="space",
                      creation_content={"type": "m.space"}, joiners=[bob])
    children = []
    for key, name in (("child_a", "Child A"), ("child_b", "Child B")):
        child = make_room(client, alice, key, name, alias_local=key.replace("_", "-"), joiners=[bob])
        space.set_state(alice, "m.space.child", {"via": [SERVER_NAME]}, state_key=child.room_id)
        child.set_state(alice, "m.space.parent", {"via": [SERVER_NAME], "canonical": True},
                        state_key=space.room_id)
        fill(child, [alice, bob], rng, 0, 10, label=f"{name} message")
        children.append(child)
    space.extra["children"] = [c.room_id for c in children]
    return space, children


def seed_live(client, alice, bob, rng):
    live = make_room(client, alice, "live", "Live room", alias_local="live", joiners=[bob])
    fill(live, [alice, bob], rng, 0, 10, label="live message")
    return live


# The export tests' canary: hostile HTML points here; the test listens on this port and fails on any request.
EXPORT_CANARY_PORT = 18093


def seed_export(client, alice, bob, rng):
    """A small room for the export tests: hostile and allowed HTML, a hostile display name, a reply with
    a fallback, attachments with path-like names, an edit, a reaction, a thread, an emote, a notice and a
    redaction."""
    room = make_room(client, alice, "export", "Export room", alias_local="export",
                     topic="Exports <b>and</b> their safety", joiners=[bob])
    canary = f"http://127.0.0.1:{EXPORT_CANARY_PORT}"
    first = room.say(alice, "export: hello")
    hostile = (
        '<p>hostile two</p>'
        "<script>document.title='PWNED-script'</script>"
        f'<img src="{canary}/img.png" onerror="document.title=\'PWNED-onerror\'">'
        "<a href=\"javascript:document.title='PWNED-js'\">js link</a>"
        "<a href=\"&#106;avascript:document.title='PWNED-entity'\">entity link</a>"
        '<a href="java&#x09;script:alert(1)">tab link</a>'
        f'<iframe src="{canary}/frame"></iframe>'
        f'<style>body{{background:url({canary}/css-bg)}} *{{display:none}}</style>'
        f'<div style="background-image:url({canary}/inline-style)">styled div</div>'
        "<svg><script>document.title='PWNED-svg'</script></svg>"
        f'<object data="{canary}/object"></object>'
        f'<form action="{canary}/form"><button>go</button></form>'
        "<a href=\"https://example.org/ok\" onclick=\"document.title='PWNED-click'\">fine link</a>"
        "<!-- <script>document.title='PWNED-comment'</script> -->"
        "<noscript><img src=x onerror=\"document.title='PWNED-noscript'\"></noscript>"
        "<textarea><script>document.title='PWNED-textarea'</script></textarea>"
        f'<base href="{canary}/">'
        f'<link rel=stylesheet href="{canary}/link.css">'
        f'<meta http-equiv="refresh" content="0;url={canary}/refresh">'
    )
    hostile_id = room.say(alice, "hostile two", {
        "msgtype": "m.text", "body": "hostile two", "format": "org.matrix.custom.html", "formatted_body": hostile})
    formatted_id = room.say(bob, "formatted", {
        "msgtype": "m.text", "body": "bold it x one matrix.org let x = 1", "format": "org.matrix.custom.html",
        "formatted_body": '<p><b>bold</b> <i>it</i> <code>x</code></p><ul><li>one</li></ul>'
                          '<a href="https://matrix.org">matrix.org</a>'
                          '<pre><code class="language-swift">let x = 1</code></pre>'})
    # Bob's display name in this room is hostile HTML.
    name = "<img src=x onerror=\"document.title='PWNED-name'\">Bob the <b>Builder</b>"
    room.set_state(bob, "m.room.member", {"membership": "join", "displayname": name}, state_key=bob.user_id)
    reply_body = "> <@alice:localhost> export: hello\n\nexport: a reply from bob"
    reply_content = {
        "msgtype": "m.text", "body": reply_body, "format": "org.matrix.custom.html",
        "formatted_body": f'<mx-reply><blockquote><a href="https://matrix.to/#/{room.room_id}/{first}">In reply to</a> '
                          '<a href="https://matrix.to/#/@alice:localhost">@alice:localhost</a><br>export: hello'
                          '</blockquote></mx-reply>export: a reply from bob',
        "m.relates_to": {"m.in_reply_to": {"event_id": first}}}
    reply_id = room._add_message(client.send(bob, room.room_id, "m.room.message", reply_content), bob,
                                 reply_body, in_reply_to=first)
    file_id = room.say(bob, "../../etc/passwd", {
        "msgtype": "m.file", "body": "../../etc/passwd", "filename": "../../etc/passwd",
        "url": "mxc://localhost/notreallyafile", "info": {"size": 1234, "mimetype": "text/plain"}})
    image_id = room.say(alice, "cat.png", {
        "msgtype": "m.image", "body": "cat.png", "url": "mxc://localhost/notreallyanimage",
        "info": {"size": 2048, "mimetype": "image/png", "w": 10, "h": 10}})
    room.say(alice, "waves", {"msgtype": "m.emote", "body": "waves"})
    room.say(bob, "a notice", {"msgtype": "m.notice", "body": "export: a notice"})
    room.edit(alice, first, "export: hello (edited)")
    room.react(bob, first, "👍")
    root = room.say(alice, "export: thread root")
    room.thread([bob, alice], root, 2, "export thread")
    gone = room.say(bob, "export: this will be deleted")
    room.redact(bob, gone)
    room.say(alice, "export: ünïcödé 日本語 and a tab\tin text")
    room.extra.update({
        "canary_port": EXPORT_CANARY_PORT, "hostile_event": hostile_id, "formatted_event": formatted_id,
        "reply_event": reply_id, "file_event": file_id, "image_event": image_id, "thread_root": root,
        "redacted_event": gone, "bob_display_name": name,
    })
    return room


def seed_demo(client, alice, bob, rng):
    room = make_room(client, alice, "demo", "Demo room", alias_local="demo",
                     topic="A small room to try mxarchive on", joiners=[bob])
    users = [alice, bob]
    ids = fill(room, users, rng, 0, 60)
    own = lambda u: [e for e in ids if room.by_id[e]["sender"] == u.user_id]  # noqa: E731
    room.edit(alice, own(alice)[1], "demo: an edited message")
    room.edit(bob, own(bob)[2], "demo: bob fixed a typo")
    root = room.say(alice, "demo thread: what should we archive first?")
    room.thread([bob, alice], root, 3, "demo thread")
    room.react(bob, own(alice)[3], "👍")
    room.react(alice, own(alice)[3], "🎉")
    room.reply(bob, own(alice)[4], "demo: a reply")
    room.redact(alice, own(alice)[5])
    ids2 = fill(room, users, rng, 60, 80)
    room.edit(alice, [e for e in ids2 if room.by_id[e]["sender"] == alice.user_id][0], "demo: edited later")
    room.say(bob, "message 140: that's all for the demo")
    return room


def seed_bench(client, alice, bob, rng, count=20000):
    room = make_room(client, alice, "bench", "Bench room", alias_local="bench", joiners=[bob])
    fill(room, [alice, bob], rng, 0, count)
    return room


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--homeserver", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--profile", required=True, choices=["test", "demo", "bench"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--bench-messages", type=int, default=20000,
                    help="messages in the bench room (default 20000; smaller only for trying the script)")
    args = ap.parse_args()

    with open(os.path.join(args.data_dir, "registration_shared_secret"), encoding="utf-8") as f:
        secret = f.read().strip()
    base = args.homeserver.rstrip("/")
    client = Client(base)
    rng = random.Random(f"mxarchive-{args.profile}")
    t0 = time.monotonic()

    alice = User("alice", "Alice")
    bob = User("bob", "Bob")
    for u in (alice, bob):
        register(client, secret, u)
    log(f"registered {alice.user_id} and {bob.user_id}")

    rooms = []
    users = [alice, bob]
    room_owner = {}  # room key -> the user who reads it back for the truth (default alice)
    e2e = None
    extra_notes = {}
    if args.profile == "test":
        # The encrypted rooms (seed_e2e.py, which needs vodozemac and cryptography from Synapse's venv) are
        # seeded in a thread of their own, with their own connection and random generator, alongside the
        # big room: Synapse persists events of different rooms together, so this is faster than one after
        # the other. The key-export file and the image go beside the truth file.
        sys.modules.setdefault("seed", sys.modules[__name__])
        import threading

        import seed_e2e

        e2e_result = {}
        e2e_client = Client(base)

        def run_e2e():
            try:
                e2e_result["value"] = seed_e2e.seed_test(
                    e2e_client, secret, alice, bob, random.Random(f"mxarchive-{args.profile}-e2e"),
                    os.path.dirname(os.path.abspath(args.out)))
            except BaseException as e:  # re-raised in the main thread
                e2e_result["error"] = e

        e2e_thread = threading.Thread(target=run_e2e, name="seed-e2e")
        e2e_thread.start()
        big = seed_big(client, alice, bob, rng)
        extra_notes["duplicate_reaction"] = big.duplicate_reaction_target
        log(f"big room done ({len(big.messages)} messages, {time.monotonic() - t0:.0f} s)")
        old, new = seed_upgraded(client, alice, bob, rng)
        space, children = seed_space(client, alice, bob, rng)
        live = seed_live(client, alice, bob, rng)
        export = seed_export(client, alice, bob, rng)
        rooms = [big, old, new, space, *children, live, export]
        e2e_thread.join()
        if "error" in e2e_result:
            raise e2e_result["error"]
        client.events_sent += e2e_client.events_sent
        extra_users, e2e_rooms, e2e = e2e_result["value"]
        users.extend(extra_users)
        room_owner.update({r.key: u for r, u in zip(e2e_rooms, (alice, extra_users[0]))})
        rooms.extend(e2e_rooms)
    elif args.profile == "demo":
        rooms = [seed_demo(client, alice, bob, rng)]
    else:
        rooms = [seed_bench(client, alice, bob, rng, args.bench_messages)]

    truth = {
        "homeserver": base,
        "server_name": SERVER_NAME,
        "users": {u.localpart: {"user_id": u.user_id, "password": u.password} for u in users},
        "rooms": {r.key: r.truth(room_owner.get(r.key, alice)) for r in rooms},
    }
    if e2e is not None:
        truth["e2e"] = e2e
    tmp = args.out + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(truth, f, indent=1, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, args.out)
    elapsed = time.monotonic() - t0
    log(f"profile {args.profile}: {client.events_sent} events in {elapsed:.0f} s "
        f"({client.events_sent / max(elapsed, 0.001):.0f}/s); truth in {args.out}")
    if args.profile == "test" and extra_notes.get("duplicate_reaction") is None:
        log("note: could not get a duplicate reaction past Synapse's duplicate check")


if __name__ == "__main__":
    main()
