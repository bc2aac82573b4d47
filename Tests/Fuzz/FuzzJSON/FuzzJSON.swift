import ArchiveCore

/// libFuzzer target for the JSON parser (issue 12.11): any bytes are parsed or refused with
/// `JSONParser.Failure`, never a trap; what parses is written back and parses again to the same value,
/// and the writer's bytes are a fixed point (the store and the exports depend on stable bytes).
/// Two normalisations of the writer are expected: a number beyond Double's range parses as an infinity,
/// which JSON cannot write, so it comes back `null`; a whole-number double (`5.0`) is written `5` and
/// comes back an integer.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let value = try? JSONParser.parse(bytes) else { return 0 }
    let written = JSONWriter.write(value)
    guard let again = try? JSONParser.parse(written.utf8) else {
        fatalError("the writer's output does not parse: \(written.prefix(200))")
    }
    guard again == normalised(value) else {
        fatalError("a value changed through the writer: \(written.prefix(200))")
    }
    guard JSONWriter.write(again) == written else { fatalError("the writer's bytes are not stable") }
    return 0
}

private func normalised(_ value: JSONValue) -> JSONValue {
    switch value {
    case .double(let number) where !number.isFinite: return .null
    case .double(let number) where number.rounded() == number && abs(number) < 1e15: return .int(Int64(number))
    case .array(let items): return .array(items.map(normalised))
    case .object(let fields): return .object(fields.mapValues(normalised))
    default: return value
    }
}
