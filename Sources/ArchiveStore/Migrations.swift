/// The schema, as numbered migrations run at open. A shipped migration is never edited: add a new one.
/// `PRAGMA user_version` records how many have run.
enum Migrations {
    static let all: [String] = [
        // 1: the foundation schema.
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE rooms (
            room_id TEXT PRIMARY KEY,
            room_version TEXT,
            name TEXT,
            topic TEXT,
            avatar_url TEXT,
            canonical_alias TEXT,
            encrypted INTEGER NOT NULL DEFAULT 0,
            room_type TEXT,
            predecessor TEXT,
            successor TEXT,
            backward_state TEXT NOT NULL DEFAULT 'not_started'
                CHECK (backward_state IN ('not_started', 'at', 'complete')),
            backward_token TEXT,
            forward_token TEXT,
            archive_starts_at INTEGER,
            last_sync_at INTEGER,
            CHECK ((backward_state = 'at') = (backward_token IS NOT NULL))
        );
        CREATE TABLE events (
            event_id TEXT PRIMARY KEY,
            room_id TEXT NOT NULL REFERENCES rooms(room_id),
            position INTEGER NOT NULL,
            sender TEXT NOT NULL,
            type TEXT NOT NULL,
            state_key TEXT,
            origin_server_ts INTEGER NOT NULL,
            raw_json TEXT NOT NULL,
            decrypted_json TEXT,
            decryption TEXT NOT NULL DEFAULT 'none',
            rel_type TEXT,
            rel_target TEXT,
            rel_key TEXT,
            reply_to TEXT,
            redacts TEXT,
            redacted_by TEXT,
            is_timeline_item INTEGER NOT NULL,
            current_content TEXT,
            replaced_by TEXT,
            valid_edits TEXT,
            UNIQUE (room_id, position)
        );
        CREATE INDEX events_by_relation ON events(rel_target, rel_type);
        CREATE INDEX events_by_redacts ON events(redacts, room_id) WHERE redacts IS NOT NULL;
        CREATE INDEX events_state ON events(room_id, type, state_key, position) WHERE state_key IS NOT NULL;
        CREATE INDEX events_by_time ON events(room_id, origin_server_ts);
        CREATE TABLE room_state (
            room_id TEXT NOT NULL REFERENCES rooms(room_id),
            type TEXT NOT NULL,
            state_key TEXT NOT NULL,
            event_id TEXT,
            json TEXT NOT NULL,
            PRIMARY KEY (room_id, type, state_key)
        );
        CREATE TABLE malformed_events (
            room_id TEXT NOT NULL,
            event_id TEXT,
            reason TEXT NOT NULL,
            raw_json TEXT NOT NULL,
            seen_at INTEGER NOT NULL
        );
        """,
        // 2: the search index's change feed. `change_seq` grows with every insert and with every change of
        // what a search document is made of (redaction, resolved edit, decryption), so the index catches up
        // from a cursor and repairs itself after a crash. Existing rows count as changed in arrival order.
        """
        ALTER TABLE events ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
        UPDATE events SET change_seq = rowid;
        CREATE INDEX events_by_change ON events(change_seq);
        CREATE TRIGGER events_content_changed
        AFTER UPDATE OF raw_json, decrypted_json, decryption, current_content, redacted_by ON events
        BEGIN
            UPDATE events SET change_seq = (SELECT max(change_seq) FROM events) + 1 WHERE rowid = new.rowid;
        END;
        CREATE TABLE search_index (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            build_id TEXT NOT NULL,
            language TEXT NOT NULL,
            shards INTEGER NOT NULL,
            cursor INTEGER NOT NULL,
            built_at INTEGER NOT NULL
        );
        """,
        // 3: decryption. Megolm sessions (their exported keys: secrets, kept only in this 0600 file), the
        // (session, message index) each decrypted event used (replay detection), the key-backup key for
        // later syncs, and each encrypted event's session id so that new keys find the events they open.
        """
        ALTER TABLE events ADD COLUMN session_id TEXT;
        UPDATE events SET decryption = 'missing_key', session_id = json_extract(raw_json, '$.content.session_id')
            WHERE type = 'm.room.encrypted'
            AND json_extract(raw_json, '$.content.algorithm') = 'm.megolm.v1.aes-sha2'
            AND json_extract(raw_json, '$.content.ciphertext') IS NOT NULL;
        CREATE INDEX events_by_session ON events(session_id, room_id, position) WHERE session_id IS NOT NULL;
        CREATE INDEX events_waiting_for_keys ON events(room_id, position)
            WHERE decryption IN ('missing_key', 'unknown_index');
        CREATE TABLE megolm_sessions (
            room_id TEXT NOT NULL,
            session_id TEXT NOT NULL,
            sender_key TEXT,
            first_index INTEGER NOT NULL,
            session_key TEXT NOT NULL,
            source TEXT NOT NULL,
            imported_at INTEGER NOT NULL,
            PRIMARY KEY (room_id, session_id)
        );
        CREATE TABLE megolm_indexes (
            room_id TEXT NOT NULL,
            session_id TEXT NOT NULL,
            message_index INTEGER NOT NULL,
            event_id TEXT NOT NULL,
            PRIMARY KEY (room_id, session_id, message_index)
        );
        CREATE TABLE key_backup (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            version TEXT NOT NULL,
            private_key TEXT NOT NULL,
            saved_at INTEGER NOT NULL
        );
        """,
        // 4: media: downloaded attachments, content-addressed. `media` holds one row per stored
        // file, named by the SHA-256 of its plaintext under media/ab/cdef…; `media_refs` says for each
        // event's file or thumbnail what became of it. `key_digest` tells the encrypted variants of one
        // mxc apart (SHA-256 of key, iv and hash; '' for plain media): only the same mxc with the same
        // key reuses a stored file, and a change of either is a new attempt.
        """
        CREATE TABLE media (
            sha256 TEXT PRIMARY KEY CHECK (length(sha256) = 64),
            size INTEGER NOT NULL,
            mimetype TEXT,
            stored_at INTEGER NOT NULL
        );
        CREATE TABLE media_refs (
            event_id TEXT NOT NULL REFERENCES events(event_id),
            role TEXT NOT NULL CHECK (role IN ('file', 'thumbnail')),
            mxc TEXT NOT NULL,
            key_digest TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL
                CHECK (status IN ('ok', 'hash_mismatch', 'too_large', 'not_found', 'failed', 'forbidden', 'invalid')),
            sha256 TEXT REFERENCES media(sha256),
            error TEXT,
            attempted_at INTEGER NOT NULL,
            PRIMARY KEY (event_id, role),
            CHECK ((status = 'ok') = (sha256 IS NOT NULL))
        );
        CREATE INDEX media_refs_by_source ON media_refs(mxc, key_digest) WHERE status = 'ok';
        """,
        // 5: one time unit. Migrations 1 and 3 stamped `seen_at`, `imported_at` and `saved_at` in seconds
        // while every other column holds milliseconds; they are converted once here. The `meta` table of
        // migration 1 was never used.
        """
        UPDATE malformed_events SET seen_at = seen_at * 1000;
        UPDATE megolm_sessions SET imported_at = imported_at * 1000;
        UPDATE key_backup SET saved_at = saved_at * 1000;
        DROP TABLE meta;
        """,
        // 6: redactions are judged (issue 9.4): a redaction its sender may not make is stored with the status
        // 'rejected' and its target left intact; 'accepted' when its sender may (it applies unless another
        // redaction already did). NULL: not a redaction, or its target is not stored yet (judged when it arrives).
        """
        ALTER TABLE events ADD COLUMN redaction_status TEXT CHECK (redaction_status IN ('accepted', 'rejected'));
        """,
        // 7: what a search document is made of changed (reply fallbacks stripped as the spec says, a U+0000
        // in a term value, the edits of redacted originals): every event is indexed again by the next sync
        // or `reindex`. Documents are replaced by their id term, so going back to the start is enough.
        """
        UPDATE search_index SET cursor = 0;
        """,
        // 8: the edit rules for encrypted messages changed (issue 9.3): a cleartext edit of an encrypted
        // message is invalid, an undecrypted edit's cleartext `m.new_content` is never read, and an encrypted
        // event's relation is only the clear one of its envelope (a payload's own `m.relates_to` used to be
        // kept when the envelope had none, so a payload-only `m.replace` looked like an edit). Stored
        // payloads stay as decrypted (readers apply the clear relation). Every message that is encrypted
        // or has an encrypted edit goes into `edits_to_resolve`, which the next opener that writes works
        // off (the edit rules are Swift, not SQL).
        """
        CREATE TABLE edits_to_resolve (
            room_id TEXT NOT NULL,
            event_id TEXT NOT NULL,
            PRIMARY KEY (room_id, event_id)
        ) WITHOUT ROWID;
        INSERT OR IGNORE INTO edits_to_resolve (room_id, event_id)
            SELECT e.room_id, e.rel_target FROM events e
            JOIN events o ON o.event_id = e.rel_target AND o.room_id = e.room_id
            WHERE e.rel_type = 'm.replace' AND (o.type = 'm.room.encrypted' OR e.type = 'm.room.encrypted');
        """,
        // 9: the key-backup key leaves the database for its own 0600 file (issue 12.7), so that a copy of
        // archive.sqlite does not decrypt the account's whole backup. SQL cannot write a file: the table is
        // renamed here, and `ArchiveStore.moveBackupKeyOutOfDatabase`, run after every open's migrations,
        // writes the key to `backup-key`, overwrites and deletes the row and drops the table.
        """
        ALTER TABLE key_backup RENAME TO key_backup_to_move;
        """,
        // 10: members over time (issue 9.9). The member events a `/messages` page's `state` carries (lazy
        // loading) told only the current state before, and were ignored once the room's state had the user;
        // each is now kept with the lowest timeline position it was seen in effect at, so a message shows the
        // name its sender had then. Timeline member events are read from `events` itself, so archives made
        // before this need no back-fill: their page state was never kept apart from `room_state`.
        """
        CREATE TABLE member_history (
            room_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            event_id TEXT NOT NULL,
            in_effect_at INTEGER NOT NULL,
            json TEXT NOT NULL,
            PRIMARY KEY (room_id, event_id)
        );
        CREATE INDEX member_history_by_user ON member_history(room_id, user_id, in_effect_at);
        """,
        // 11: whether each decrypted event's megolm session belongs to a device of its sender (issue 9.8),
        // learned from /keys/query after a sync: 'verified', 'mismatch' or 'unknown'. NULL: not decrypted, or
        // not checked yet. The partial index finds what the next sync must (re-)check: unchecked and unknown.
        """
        ALTER TABLE events ADD COLUMN sender_key_status TEXT
            CHECK (sender_key_status IN ('verified', 'mismatch', 'unknown'));
        CREATE INDEX events_sender_key_to_check ON events(room_id, session_id)
            WHERE decryption = 'ok' AND (sender_key_status IS NULL OR sender_key_status = 'unknown');
        """,
        // 12: `mismatch` is re-checked on later syncs too (it rests on another user's claim to the key, which
        // they can withdraw, and on rules tightened in review): the partial index covers it as well.
        """
        DROP INDEX events_sender_key_to_check;
        CREATE INDEX events_sender_key_to_check ON events(room_id, session_id)
            WHERE decryption = 'ok' AND (sender_key_status IS NULL OR sender_key_status IN ('unknown', 'mismatch'));
        """,
        // 13: the nightly run from /sync (issue 10.1). `sync_batch` holds the one `next_batch` of the last
        // run; `follows_sync` marks the rooms whose unarchived events all lie after it, so that /sync's
        // silence about them means "nothing to fetch"; `left_at` marks rooms the account left, archived up
        // to the leave and not fetched again.
        """
        CREATE TABLE sync_batch (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            next_batch TEXT NOT NULL,
            stored_at INTEGER NOT NULL
        );
        ALTER TABLE rooms ADD COLUMN follows_sync INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE rooms ADD COLUMN left_at INTEGER;
        """,
        // 14: what the last finished sync reported of a room (issue 10.5): a sync warns (exit 3) about events
        // waiting for keys and failed attachments that are new since a report, so that the same ones are not
        // warned about every night, while a killed run, which never printed its warnings, leaves them to the
        // next. `waiting_unreported` counts events stored without their keys since the room was last
        // reported (added in each page's transaction); `reported_at` is when that was (media failures
        // attempted before then were reported).
        """
        ALTER TABLE rooms ADD COLUMN waiting_unreported INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE rooms ADD COLUMN reported_at INTEGER;
        """,
        // 15: how many runs in a row an attachment failed the same way (same mxc, key and status), so that
        // a link the server answers 404 or 403 is tried less and less often (`MediaRef.retryAfter`) instead
        // of every night. Rows from before count as one attempt.
        """
        ALTER TABLE media_refs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
        """,
    ]
}
