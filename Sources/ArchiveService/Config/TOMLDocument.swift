import Foundation
import TOMLKit

/// A TOML value as plain Swift data. The config validator works on these, never on TOMLKit's types, so
/// that TOMLKit (a wrapper of the C++ toml++ library) stays inside this one file.
enum ConfigValue: Sendable, Equatable {
    case string(String)
    case integer(Int)
    case float(Double)
    case bool(Bool)
    /// A date, time or date-time, kept as its TOML text: no setting of ours takes one.
    case dateTime(String)
    case array([ConfigValue])
    case table([String: ConfigValue])

    /// The TOML name of the type, for "must be a string, got an integer".
    var typeName: String {
        switch self {
        case .string: return "a string"
        case .integer: return "an integer"
        case .float: return "a float"
        case .bool: return "a boolean"
        case .dateTime: return "a date"
        case .array: return "an array"
        case .table: return "a table"
        }
    }
}

/// Parses TOML text through TOMLKit and turns its one error type into ours (`ConfigProblem` with the
/// line toml++ reports).
enum TOMLDocument {
    static func parse(_ text: String) -> Result<[String: ConfigValue], ConfigProblem> {
        // toml++ reads a C string: a NUL byte would silently end the document there.
        if let nul = text.firstIndex(of: "\0") {
            // Line feed bytes, not Characters: "\r\n" is one Character.
            let line = text[..<nul].utf8.filter { $0 == 0x0A }.count + 1
            return .failure(ConfigProblem(line: line, message: "the file holds a NUL byte; a config is plain text"))
        }
        do {
            let table = try TOMLTable(string: text)
            return .success(convertTable(table))
        } catch let error as TOMLParseError {
            // toml++'s messages are about the syntax and quote no values beyond a character or two.
            return .failure(ConfigProblem(line: max(1, error.source.begin.line),
                                          message: "not valid TOML: \(error.description)"))
        } catch {
            return .failure(ConfigProblem(line: 1, message: "not valid TOML"))
        }
    }

    private static func convertTable(_ table: TOMLTable) -> [String: ConfigValue] {
        var result: [String: ConfigValue] = [:]
        for (key, value) in table { result[key] = convertValue(value) }
        return result
    }

    private static func convertValue(_ value: any TOMLValueConvertible) -> ConfigValue {
        switch value.type {
        case .table: return .table(value.table.map(convertTable) ?? [:])
        case .array: return .array(value.array.map { $0.map(convertValue) } ?? [])
        case .string: return .string(value.string ?? "")
        case .int: return .integer(value.int ?? 0)
        case .double: return .float(value.double ?? 0)
        case .bool: return .bool(value.bool ?? false)
        case .date, .time, .dateTime: return .dateTime(value.debugDescription)
        }
    }
}
