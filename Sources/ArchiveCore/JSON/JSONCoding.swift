import Foundation

/// One place for reading and writing JSON across the archive: compact, sorted keys, slashes unescaped.
public enum JSONCoding {
    public static func encode(_ value: JSONValue) -> String {
        JSONWriter.write(value)
    }

    public static func decode(_ text: String) throws -> JSONValue {
        try JSONParser.parse(text.utf8)
    }

    public static func decode(_ data: Data) throws -> JSONValue {
        try JSONParser.parse(data)
    }
}
