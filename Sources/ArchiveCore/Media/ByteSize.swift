/// Sizes as people write them on a command line: `500000`, `512K`, `20M`, `1G` (also `20MB`, `20MiB`;
/// the suffixes are binary: `1M` is 1,048,576 bytes).
public enum ByteSize {
    public static func parse(_ text: String) -> Int64? {
        var digits = Substring(text.trimmingCharactersInSpaces())
        var unit = ""
        while let last = digits.last, last.isLetter {
            unit = String(last) + unit
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int64(digits) else {
            return nil
        }
        let shift: Int64
        switch unit.lowercased() {
        case "", "b": shift = 0
        case "k", "kb", "kib": shift = 10
        case "m", "mb", "mib": shift = 20
        case "g", "gb", "gib": shift = 30
        case "t", "tb", "tib": shift = 40
        default: return nil
        }
        let (value, overflow) = number.multipliedReportingOverflow(by: Int64(1) << shift)
        return overflow ? nil : value
    }

    /// `1536` → `1.5 KiB`: for summaries.
    public static func format(_ bytes: Int64) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var index = 0
        while value >= 1024, index < units.count - 1 {
            value /= 1024
            index += 1
        }
        if index == 0 { return "\(bytes) bytes" }
        let tenths = (value * 10).rounded() / 10
        return "\(tenths) \(units[index])"
    }
}

extension String {
    fileprivate func trimmingCharactersInSpaces() -> Substring {
        var text = Substring(self)
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return text
    }
}
