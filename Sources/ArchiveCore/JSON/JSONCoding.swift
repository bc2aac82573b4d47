import Foundation

/// One place for reading and writing JSON across the archive: compact, sorted keys, slashes unescaped.
public enum JSONCoding {
    public static func encode(_ value: JSONValue) -> String {
        JSONWriter.write(value)
    }

    /// The same JSON, for a JavaScript file (the HTML export's lookup and search files): U+2028 and
    /// U+2029 are escaped, since engines before ES2019 end a string literal at them.
    public static func encodeForScript(_ value: JSONValue) -> String {
        JSONWriter.write(value, forScript: true)
    }

    public static func decode(_ text: String) throws -> JSONValue {
        try JSONParser.parse(text.utf8)
    }

    public static func decode(_ data: Data) throws -> JSONValue {
        try JSONParser.parse(data)
    }
}
