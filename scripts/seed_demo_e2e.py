#!/usr/bin/env python3
"""The demo room's encrypted tail, added after `seed.py --profile demo` (scripts/synapse runs both).

    seed_demo_e2e.py --homeserver URL --truth FILE

Logs in as alice and bob (passwords from the 0600 truth file), switches the demo room to end-to-end
encryption after its plain history (as a room's admin would), sends six megolm messages (vodozemac, through
seed_e2e.py's helpers), puts both sessions into alice's key backup behind secret storage, and adds
{"e2e": {"demo": {"room_key", "recovery_key", "encrypted_messages"}}} to the truth file, so that
scripts/demo can show `keys backup --recovery-key-file` decrypting them.

A script of its own, not a change to seed.py's demo profile: the test profile's snapshot is keyed by
seed.py and seed_e2e.py, and the demo must not force every engineer and CI to reseed the test rooms.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seed  # noqa: E402

sys.modules.setdefault("seed", seed)
from seed_e2e import MEGOLM, Device, Session, setup_modern  # noqa: E402

DEMO_SECRETS = [
    "the vault code moved to the blue folder",
    "noted: vault inspection is on Thursday",
    "the lighthouse keys are with the harbour master",
    "please keep the vault notes out of the public room",
    "switching this room to end-to-end encryption was a good call",
    "the budget draft is in the vault share, not on the wiki",
]


def seed_demo_part(client, room, alice, bob):
    """The demo room's encrypted part: encryption is switched on after the plain history (as a room's admin
    would), then alice and bob send megolm messages; alice's key backup, behind secret storage, holds both
    sessions, so `keys backup --recovery-key-file` decrypts all of them. Returns the "e2e" truth entry."""
    devices = {}
    for u in (alice, bob):
        d = Device(u.user_id, u.device_id or "MXSEEDER")
        client.request("POST", "/_matrix/client/v3/keys/upload", {"device_keys": d.device_keys()}, u.token)
        devices[u.user_id] = d
    room.set_state(alice, "m.room.encryption", {"algorithm": MEGOLM})
    sessions = {u.user_id: Session(devices[u.user_id], room.room_id) for u in (alice, bob)}
    for i, body in enumerate(DEMO_SECRETS):
        user = (alice, bob)[i % 2]
        session = sessions[user.user_id]
        enc, index = session.encrypt("m.room.message", {"msgtype": "m.text", "body": body}, room.room_id)
        event_id = client.send(user, room.room_id, "m.room.encrypted", enc)
        session.events.append(event_id)
        session.indexes[event_id] = index
    modern = setup_modern(client, alice, list(sessions.values()), missing=None)
    return {"demo": {"room_key": room.key, "recovery_key": modern["recovery_key"],
                     "encrypted_messages": len(DEMO_SECRETS)}}



def login(client, localpart, password):
    user = seed.User(localpart, localpart.capitalize())
    user.password = password
    res = client.request("POST", "/_matrix/client/v3/login", {
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": localpart},
        "password": password, "initial_device_display_name": "mxarchive demo seeder"})
    user.token = res["access_token"]
    user.device_id = res.get("device_id")
    return user


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--homeserver", required=True)
    ap.add_argument("--truth", required=True)
    args = ap.parse_args()
    with open(args.truth, encoding="utf-8") as f:
        truth = json.load(f)
    client = seed.Client(args.homeserver.rstrip("/"))
    alice, bob = (login(client, name, truth["users"][name]["password"]) for name in ("alice", "bob"))
    entry = truth["rooms"]["demo"]
    room = seed.Room(client, "demo", entry["room_id"], None, entry.get("name"))
    truth["e2e"] = seed_demo_part(client, room, alice, bob)
    tmp = args.truth + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(truth, f, indent=1, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, args.truth)
    seed.log("demo: encrypted tail of 6 messages, sessions in alice's key backup")


if __name__ == "__main__":
    main()
