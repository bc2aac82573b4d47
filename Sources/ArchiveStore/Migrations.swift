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
    ]
}
