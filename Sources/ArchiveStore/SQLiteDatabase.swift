import CSQLite
import Foundation

/// The one file that talks to SQLite's C API. It owns the connection and its statements and turns result
/// codes into `StoreError`s, so no raw pointer leaves it.
final class SQLiteDatabase {
    /// fileprivate: a statement asks it for the system error behind a failed step.
    fileprivate var handle: OpaquePointer?
    let path: String
    private var statementCache: [String: SQLiteStatement] = [:]
    /// Every statement, step and transaction runs inside it: see `ExclusiveAccess`.
    let access = ExclusiveAccess()

    /// - Parameter create: create the file when it is missing; false for commands that only read, which
    ///   must never leave an empty archive behind a mistyped path.
    init(path: String, create: Bool = true) throws {
        self.path = path
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &db, flags, nil)
        guard code == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            let full = Self.isFull(code, db)
            sqlite3_close_v2(db)
            throw StoreError.sqlite(step: "open \(path)", message: message, full: full)
        }
        handle = db
        sqlite3_busy_timeout(db, 5_000)
        sqlite3_extended_result_codes(db, 1)
    }

    deinit {
        statementCache.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Runs one or more SQL statements that return no rows.
    func execute(_ sql: String) throws {
        try access.during { try executeUnguarded(sql) }
    }

    private func executeUnguarded(_ sql: String) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if code != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? lastError
            sqlite3_free(errorMessage)
            throw StoreError.sqlite(step: String(sql.prefix(60)), message: message, busy: Self.isBusy(code),
                                    full: Self.isFull(code, handle))
        }
    }

    /// A prepared statement, cached by its text: ingestion runs the same few statements many times.
    func statement(_ sql: String) throws -> SQLiteStatement {
        try access.during { try prepare(sql) }
    }

    private func prepare(_ sql: String) throws -> SQLiteStatement {
        if let cached = statementCache[sql] {
            cached.reset()
            return cached
        }
        var raw: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &raw, nil) == SQLITE_OK, let raw else {
            throw StoreError.sqlite(step: "prepare \(sql.prefix(60))", message: lastError)
        }
        let statement = SQLiteStatement(raw, database: self)
        statementCache[sql] = statement
        return statement
    }

    var changes: Int { Int(sqlite3_changes(handle)) }

    var lastError: String { String(cString: sqlite3_errmsg(handle)) }

    /// SQLITE_BUSY and SQLITE_LOCKED, with or without their extended codes: another connection holds a lock.
    static func isBusy(_ code: Int32) -> Bool { code & 0xff == SQLITE_BUSY || code & 0xff == SQLITE_LOCKED }

    /// SQLITE_FULL, or an I/O error whose system call failed with ENOSPC/EDQUOT (SQLite reports a WAL
    /// index it cannot allocate as SQLITE_IOERR_SHMSIZE, a "disk I/O error"): the disk, or the file
    /// system's quota, has no room for the database to grow.
    static func isFull(_ code: Int32, _ db: OpaquePointer?) -> Bool {
        if code & 0xff == SQLITE_FULL { return true }
        guard code & 0xff == SQLITE_IOERR, let db else { return false }
        let number = sqlite3_system_errno(db)
        return number == ENOSPC || number == EDQUOT
    }

    /// Runs `body` in one transaction, committing on success and rolling back on any error. Writers begin
    /// IMMEDIATE (take the write lock up front); readers DEFERRED (one snapshot for many lookups).
    func transaction<T>(begin: String = "BEGIN IMMEDIATE", _ body: () throws -> T) throws -> T {
        try access.during {
            try execute(begin)
            do {
                let result = try body()
                try execute("COMMIT")
                return result
            } catch {
                try? execute("ROLLBACK")
                throw error
            }
        }
    }
}

/// A prepared statement. Values are bound by position (1-based, as SQLite counts).
final class SQLiteStatement {
    private let handle: OpaquePointer
    private unowned let database: SQLiteDatabase

    fileprivate init(_ handle: OpaquePointer, database: SQLiteDatabase) {
        self.handle = handle
        self.database = database
    }

    deinit { sqlite3_finalize(handle) }

    fileprivate func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Resets the statement and binds fresh values, so one prepared statement serves a whole loop.
    @discardableResult
    func bind(_ values: [SQLiteValue]) -> SQLiteStatement {
        database.access.during {
            reset()
            for (offset, value) in values.enumerated() {
                let index = Int32(offset + 1)
                switch value {
                case .null: sqlite3_bind_null(handle, index)
                case .int(let number): sqlite3_bind_int64(handle, index, number)
                case .text(let text): bindText(text, at: index)
                }
            }
        }
        return self
    }

    /// Binds with the explicit byte length, never as a C string: event content is untrusted, and a U+0000
    /// inside a value (a reaction key, a sender) would otherwise cut it short and merge it with another.
    private func bindText(_ text: String, at index: Int32) {
        var text = text
        text.withUTF8 { bytes in
            guard let base = bytes.baseAddress, !bytes.isEmpty else {
                // An empty string, not NULL (which a nil pointer would bind).
                sqlite3_bind_text(handle, index, "", 0, mxa_sqlite_transient())
                return
            }
            base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                _ = sqlite3_bind_text(handle, index, $0, Int32(bytes.count), mxa_sqlite_transient())
            }
        }
    }

    /// Steps once; true when a row is available.
    func step() throws -> Bool {
        let code = database.access.during { sqlite3_step(handle) }
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            throw StoreError.sqlite(step: "step \(String(cString: sqlite3_sql(handle)).prefix(60))",
                                    message: database.lastError, busy: SQLiteDatabase.isBusy(code),
                                    full: SQLiteDatabase.isFull(code, database.handle))
        }
    }

    /// Runs a statement that returns no rows.
    func run(_ values: SQLiteValue...) throws {
        bind(values)
        _ = try step()
    }

    /// All rows, each read by `row`.
    func rows<T>(_ values: SQLiteValue..., row: (SQLiteStatement) throws -> T) throws -> [T] {
        bind(values)
        var result: [T] = []
        while try step() { result.append(try row(self)) }
        return result
    }

    /// The first row only. The statement is reset before returning: a statement left mid-way keeps its read
    /// transaction open, and a connection holding an old snapshot cannot write after another connection has
    /// (the search indexer writes from its own connection).
    func firstRow<T>(_ values: SQLiteValue..., row: (SQLiteStatement) throws -> T) throws -> T? {
        bind(values)
        defer { sqlite3_reset(handle) }
        guard try step() else { return nil }
        return try row(self)
    }

    func int(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    /// The column's text by its byte length (after `sqlite3_column_text`, as SQLite asks), so an embedded
    /// U+0000 comes back whole.
    func text(_ column: Int32) -> String? {
        guard let pointer = sqlite3_column_text(handle, column) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    func optionalInt(_ column: Int32) -> Int64? { isNull(column) ? nil : int(column) }
}

enum SQLiteValue {
    case null
    case int(Int64)
    case text(String)

    static func optional(_ text: String?) -> SQLiteValue { text.map(SQLiteValue.text) ?? .null }
    static func optional(_ number: Int64?) -> SQLiteValue { number.map(SQLiteValue.int) ?? .null }
}
