#!/usr/bin/env python3
"""Seed an organisation's worth of small rooms into a local Synapse, for the nightly-sync tests and bench.

    seed_org.py create --homeserver URL --data-dir DIR --rooms N --prefix NAME --out FILE [--threads T]
    seed_org.py news --homeserver URL --state FILE --rooms K [--messages M] [--kinds LIST] [--seed S]

`create` registers two fresh users, @NAME-admin and @NAME-member (shared-secret registration; the secret is
read from DIR/registration_shared_secret, never printed), creates N small rooms owned by the admin, each
with a name, the member joined and two messages, in T threads at once (Synapse persists events of different
rooms together, so this is several times faster than one room after another). FILE (mode 0600) lists the
users with their passwords and tokens, and the rooms in creation order.

`news` changes the first K rooms of FILE as a night would: M messages each, and in turn one of the other
kinds (rename, leave, rejoin, redact, edit), cycling through --kinds. It prints what it did as one JSON object, so
a test can tell which rooms should have news.

Every user gets a fresh name (the prefix), so runs never meet each other's rooms. Standard library only.
"""

import argparse
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seed import Client, MatrixError, User, log, register  # noqa: E402


def write_private(path, value):
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=1, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, path)


def in_threads(count, threads, base, work):
    """Runs work(client, i) for i in 0..<count over `threads` threads, each with its own connection;
    returns the results in order of i. The first exception is re-raised."""
    results = [None] * count
    errors = []
    next_index = [0]
    lock = threading.Lock()

    def worker():
        client = Client(base)
        while True:
            with lock:
                if errors or next_index[0] >= count:
                    return
                i = next_index[0]
                next_index[0] += 1
            try:
                results[i] = work(client, i)
            except BaseException as e:  # re-raised in the caller
                with lock:
                    errors.append(e)
                return

    pool = [threading.Thread(target=worker, name=f"seed-org-{n}") for n in range(max(1, threads))]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if errors:
        raise errors[0]
    return results


def user_from(state, role):
    u = User(state["users"][role]["localpart"], state["users"][role]["displayname"])
    u.password = state["users"][role]["password"]
    u.token = state["users"][role]["token"]
    return u


def create(args):
    with open(os.path.join(args.data_dir, "registration_shared_secret"), encoding="utf-8") as f:
        secret = f.read().strip()
    base = args.homeserver.rstrip("/")
    client = Client(base)
    admin = User(f"{args.prefix}-admin", "Org Admin")
    member = User(f"{args.prefix}-member", "Org Member")
    for u in (admin, member):
        register(client, secret, u)
    t0 = time.monotonic()

    def make(c, i):
        name = f"Org room {i:04d}"
        room_id = c.create_room(admin, {"preset": "private_chat", "name": name, "invite": [member.user_id]})
        c.join(member, room_id)
        c.send(admin, room_id, "m.room.message", {"msgtype": "m.text", "body": f"welcome to room {i}"})
        c.send(member, room_id, "m.room.message", {"msgtype": "m.text", "body": f"hello from the member, room {i}"})
        return {"room_id": room_id, "name": name}

    rooms = in_threads(args.rooms, args.threads, base, make)
    log(f"{len(rooms)} rooms in {time.monotonic() - t0:.0f} s")
    write_private(args.out, {
        "homeserver": base,
        "users": {
            role: {"user_id": u.user_id, "localpart": u.localpart, "displayname": u.displayname,
                   "password": u.password, "token": u.token}
            for role, u in (("admin", admin), ("member", member))
        },
        "rooms": rooms,
    })


def news(args):
    with open(args.state, encoding="utf-8") as f:
        state = json.load(f)
    base = args.homeserver.rstrip("/")
    admin, member = user_from(state, "admin"), user_from(state, "member")
    kinds = [k for k in args.kinds.split(",") if k]
    rooms = state["rooms"][: args.rooms]

    def change(c, i):
        room = rooms[i]
        room_id = room["room_id"]
        done = {"room_id": room_id, "messages": [], "kind": None}
        for n in range(args.messages):
            body = f"news {args.seed}-{n} in {room['name']}"
            done["messages"].append(c.send(admin, room_id, "m.room.message", {"msgtype": "m.text", "body": body}))
        kind = kinds[i % len(kinds)] if kinds else None
        done["kind"] = kind
        if kind == "rename":
            done["name"] = f"{room['name']} (renamed {args.seed})"
            c.state(admin, room_id, "m.room.name", "", {"name": done["name"]})
        elif kind == "leave":
            try:
                path = f"/_matrix/client/v3/rooms/{c.q(room_id)}/leave"
                c.request("POST", path, {}, member.token)
            except MatrixError as e:  # already left on an earlier night
                done["error"] = str(e)
        elif kind == "rejoin":  # the admin invites the member back in, and the member joins
            c.request("POST", f"/_matrix/client/v3/rooms/{c.q(room_id)}/invite", {"user_id": member.user_id}, admin.token)
            c.join(member, room_id)
        elif kind == "redact":
            target = c.send(member, room_id, "m.room.message", {"msgtype": "m.text", "body": "oops, wrong room"})
            done["redacted"] = target
            c.redact(member, room_id, target)
        elif kind == "edit":
            target = c.send(admin, room_id, "m.room.message", {"msgtype": "m.text", "body": "a typo hree"})
            c.send(admin, room_id, "m.room.message", {
                "msgtype": "m.text", "body": "* a typo here",
                "m.new_content": {"msgtype": "m.text", "body": "a typo here"},
                "m.relates_to": {"rel_type": "m.replace", "event_id": target},
            })
            done["edited"] = target
        return done

    changed = in_threads(len(rooms), args.threads, base, change)
    json.dump({"changed": changed}, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("create", help="register two users and create N small rooms")
    c.add_argument("--homeserver", required=True)
    c.add_argument("--data-dir", required=True)
    c.add_argument("--rooms", type=int, default=200)
    c.add_argument("--prefix", required=True, help="localpart prefix of the two fresh users")
    c.add_argument("--out", required=True)
    c.add_argument("--threads", type=int, default=8)
    n = sub.add_parser("news", help="a night's changes in the first K rooms of a created state file")
    n.add_argument("--homeserver", required=True)
    n.add_argument("--state", required=True)
    n.add_argument("--rooms", type=int, default=6)
    n.add_argument("--messages", type=int, default=2)
    n.add_argument("--kinds", default="rename,leave,redact,edit",
                   help="comma-separated kinds cycled over the rooms (empty: messages only)")
    n.add_argument("--seed", default="1", help="a label that makes this night's bodies unique")
    n.add_argument("--threads", type=int, default=6)
    args = ap.parse_args()
    create(args) if args.command == "create" else news(args)


if __name__ == "__main__":
    main()
