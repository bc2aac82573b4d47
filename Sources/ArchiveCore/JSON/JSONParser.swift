/// A strict JSON parser (RFC 8259) straight into `JSONValue`.
///
/// Why not `JSONDecoder`: decoding an untyped tree through `Decodable` has to try each JSON type in turn
/// and throws on every miss, which made parsing the dominant cost of archiving a page. This parser reads
/// the bytes once.
public struct JSONParser {
    public struct Failure: ReportableError {
        public var category: ErrorCategory { .failure }
        public let offset: Int
        public let reason: String
        /// True when the text may be valid JSON but holds more values than `maxValues`: the caller may ask
        /// for less (a smaller page) instead of treating it as garbage.
        public let exceedsValueLimit: Bool
        public var description: String { "invalid JSON at byte \(offset): \(reason)" }

        init(offset: Int, reason: String, exceedsValueLimit: Bool = false) {
            self.offset = offset
            self.reason = reason
            self.exceedsValueLimit = exceedsValueLimit
        }
    }

    /// Nesting deeper than this is refused: events come from other servers, and deep nesting is a cheap
    /// way to exhaust the stack.
    public static let maxDepth = 256

    /// At most this many values (scalars, arrays, objects, and object keys) in one document. A value in
    /// memory costs 16 bytes and more, against as little as 2 bytes of text (`0,`): without a budget a
    /// 64 MiB reply of tiny values grows to almost 900 MB. Four million is ten times what a 1,000-event
    /// page needs and more than the full state of a room of 100,000 members (about 25 per member event),
    /// and holds a document's tree under 300 MB.
    public static let maxValues = 4_000_000

    public static func parse(_ bytes: some Collection<UInt8>, maxValues: Int = JSONParser.maxValues) throws -> JSONValue {
        // Contiguous input (Data, [UInt8], a String's UTF-8) is read in place instead of copied first.
        if let value = try bytes.withContiguousStorageIfAvailable({ try parse(buffer: $0, maxValues: maxValues) }) {
            return value
        }
        return try Array(bytes).withUnsafeBufferPointer { try parse(buffer: $0, maxValues: maxValues) }
    }

    private static func parse(buffer: UnsafeBufferPointer<UInt8>, maxValues: Int) throws -> JSONValue {
        var parser = Cursor(bytes: buffer, valueBudget: maxValues)
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.index == buffer.count else { throw parser.failure("unexpected data after the value") }
        return value
    }

    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        let valueBudget: Int
        var values = 0

        init(bytes: UnsafeBufferPointer<UInt8>, valueBudget: Int) {
            self.bytes = bytes
            self.valueBudget = valueBudget
        }

        func failure(_ reason: String) -> Failure { Failure(offset: index, reason: reason) }

        /// Counts one value, or one object key (a key costs a dictionary slot as a value does).
        mutating func spendValue() throws {
            values += 1
            guard values <= valueBudget else {
                throw Failure(offset: index, reason: "more than \(valueBudget) values", exceedsValueLimit: true)
            }
        }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x0A, 0x0D, 0x09: index += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int) throws -> JSONValue {
            guard index < bytes.count else { throw failure("unexpected end") }
            try spendValue()
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object(depth: depth + 1)
            case UInt8(ascii: "["): return try array(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw failure("unexpected character")
            }
        }

        mutating func literal(_ word: StaticString) throws {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { throw failure("unexpected end") }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
                throw failure("invalid literal")
            }
            index += count
        }

        mutating func object(depth: Int) throws -> JSONValue {
            guard depth <= JSONParser.maxDepth else { throw failure("nested too deeply") }
            index += 1
            var result: [String: JSONValue] = [:]
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(result)
            }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw failure("expected a key") }
                try spendValue()
                let key = try string()
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw failure("expected ':'") }
                index += 1
                skipWhitespace()
                result[key] = try value(depth: depth)
                skipWhitespace()
                guard index < bytes.count else { throw failure("unexpected end") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(result) }
                throw failure("expected ',' or '}'")
            }
        }

        mutating func array(depth: Int) throws -> JSONValue {
            guard depth <= JSONParser.maxDepth else { throw failure("nested too deeply") }
            index += 1
            var result: [JSONValue] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(result)
            }
            while true {
                skipWhitespace()
                result.append(try value(depth: depth))
                skipWhitespace()
                guard index < bytes.count else { throw failure("unexpected end") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(result) }
                throw failure("expected ',' or ']'")
            }
        }

        mutating func string() throws -> String {
            index += 1
            let start = index
            // Fast path: no escapes, valid UTF-8 checked by String's initialiser.
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                    index += 1
                    guard let text = String(validating: slice, as: UTF8.self) else { throw failure("invalid UTF-8") }
                    return text
                }
                if byte == UInt8(ascii: "\\") { break }
                if byte < 0x20 { throw failure("control character in string") }
                index += 1
            }
            var scalars = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    guard let text = String(validating: scalars, as: UTF8.self) else { throw failure("invalid UTF-8") }
                    return text
                case UInt8(ascii: "\\"):
                    index += 1
                    guard index < bytes.count else { throw failure("unexpected end") }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""): scalars.append(0x22)
                    case UInt8(ascii: "\\"): scalars.append(0x5C)
                    case UInt8(ascii: "/"): scalars.append(0x2F)
                    case UInt8(ascii: "b"): scalars.append(0x08)
                    case UInt8(ascii: "f"): scalars.append(0x0C)
                    case UInt8(ascii: "n"): scalars.append(0x0A)
                    case UInt8(ascii: "r"): scalars.append(0x0D)
                    case UInt8(ascii: "t"): scalars.append(0x09)
                    case UInt8(ascii: "u"):
                        var code = try hex4()
                        if (0xD800...0xDBFF).contains(code) {
                            // A high surrogate must be followed by an escaped low surrogate.
                            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                                  bytes[index + 1] == UInt8(ascii: "u") else { throw failure("lone surrogate") }
                            index += 2
                            let low = try hex4()
                            guard (0xDC00...0xDFFF).contains(low) else { throw failure("invalid surrogate pair") }
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00...0xDFFF).contains(code) {
                            throw failure("lone surrogate")
                        }
                        guard let scalar = Unicode.Scalar(code) else { throw failure("invalid code point") }
                        scalars.append(contentsOf: Array(String(Character(scalar)).utf8))
                    default:
                        throw failure("invalid escape")
                    }
                default:
                    if byte < 0x20 { throw failure("control character in string") }
                    scalars.append(byte)
                    index += 1
                }
            }
            throw failure("unterminated string")
        }

        mutating func hex4() throws -> UInt32 {
            guard index + 4 <= bytes.count else { throw failure("unexpected end") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt32
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
                default: throw failure("invalid \\u escape")
                }
                value = value << 4 | digit
                index += 1
            }
            return value
        }

        mutating func number() throws -> JSONValue {
            let start = index
            var isInteger = true
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else {
                throw failure("invalid number")
            }
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
            } else {
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                isInteger = false
                index += 1
                let digits = index
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
                guard index > digits else { throw failure("invalid number") }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                isInteger = false
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                let digits = index
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
                guard index > digits else { throw failure("invalid number") }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            if isInteger, let integer = Int64(text) { return .int(integer) }
            guard let double = Double(text) else { throw failure("invalid number") }
            return .double(double)
        }
    }
}

/// Writes `JSONValue`s as compact JSON with sorted keys (stable bytes for golden files, reproducible
/// exports and idempotent storage).
public enum JSONWriter {
    /// `forScript`: also escape U+2028 and U+2029 (line terminators inside a JavaScript string literal
    /// before ES2019), for JSON written into `.js` files; other output keeps its bytes as they were.
    public static func write(_ value: JSONValue, forScript: Bool = false) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(512)
        write(value, forScript: forScript, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    static func write(_ value: JSONValue, forScript: Bool = false, into output: inout [UInt8]) {
        switch value {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let flag): output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .int(let number): output.append(contentsOf: String(number).utf8)
        case .double(let number):
            if number.isFinite {
                output.append(contentsOf: (number.rounded() == number && abs(number) < 1e15
                    ? String(Int64(number)) : "\(number)").utf8)
            } else {
                output.append(contentsOf: "null".utf8)  // JSON has no NaN or infinity
            }
        case .string(let text): writeString(text, forScript: forScript, into: &output)
        case .array(let items):
            output.append(UInt8(ascii: "["))
            for (offset, item) in items.enumerated() {
                if offset > 0 { output.append(UInt8(ascii: ",")) }
                write(item, forScript: forScript, into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let fields):
            output.append(UInt8(ascii: "{"))
            for (offset, key) in fields.keys.sorted().enumerated() {
                if offset > 0 { output.append(UInt8(ascii: ",")) }
                writeString(key, forScript: forScript, into: &output)
                output.append(UInt8(ascii: ":"))
                write(fields[key]!, forScript: forScript, into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    static func writeString(_ text: String, forScript: Bool = false, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            // U+2028 / U+2029 are E2 80 A8 / E2 80 A9: the lead bytes are already out (escapes are ASCII,
            // so two output bytes E2 80 can only be this string's own), and are replaced by the escape.
            if forScript, byte == 0xA8 || byte == 0xA9, output.count >= 2,
               output[output.count - 2] == 0xE2, output[output.count - 1] == 0x80 {
                output.removeLast(2)
                output.append(contentsOf: (byte == 0xA8 ? "\\u2028" : "\\u2029").utf8)
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): output.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: output.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: output.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: output.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                output.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                           hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
