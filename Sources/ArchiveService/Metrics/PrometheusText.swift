/// The Prometheus text exposition format (version 0.0.4), written directly: a metrics file is a few
/// dozen lines written once at the end of a run, which needs no registry, no collectors and no
/// dependency (swift-metrics with swift-prometheus would bring both for one `write`).
struct PrometheusText {
    private(set) var text = ""
    private var described: Set<String> = []

    /// One sample of a gauge; its `# HELP` and `# TYPE` lines come before its first sample. Every sample
    /// of one metric must be added together (the format wants a metric's samples in one group).
    mutating func gauge(_ name: String, _ help: String, _ value: Double, labels: [(String, String)] = []) {
        if described.insert(name).inserted {
            text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) gauge\n"
        }
        let labelText = labels.isEmpty ? ""
            : "{" + labels.map { "\($0.0)=\"\(Self.escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
        text += "\(name)\(labelText) \(Self.number(value))\n"
    }

    mutating func gauge(_ name: String, _ help: String, _ value: Int, labels: [(String, String)] = []) {
        gauge(name, help, Double(value), labels: labels)
    }

    /// Whole numbers without a fraction; others with what Double says (never `inf`/`nan` here).
    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    /// Label values may hold anything a room id holds: backslash, double quote and line feed are escaped.
    static func escapeLabel(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func escapeHelp(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }
}
