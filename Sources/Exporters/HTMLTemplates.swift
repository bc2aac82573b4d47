import Foundation

/// The page template and assets of the HTML export, read from `exports/html/` (or `--templates DIR`).
struct HTMLTemplates {
    let prefix: String  // page.html up to {{content}}
    let suffix: String  // after {{content}}
    let assets: [(name: String, data: [UInt8])]

    static let placeholders: Set<String> = ["head", "title", "root", "breadcrumbs", "heading", "subheading", "pager",
                                            "content", "footer", "scripts"]

    /// `explicit`, else `$MXARCHIVE_TEMPLATES`, else `share/mxarchive/html` beside the executable's folder,
    /// else the source checkout's `exports/html`.
    static func locate(_ explicit: URL?) throws -> URL {
        if let explicit { return explicit }
        var candidates: [URL] = []
        if let fromEnv = ProcessInfo.processInfo.environment["MXARCHIVE_TEMPLATES"], !fromEnv.isEmpty {
            candidates.append(URL(fileURLWithPath: fromEnv))
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        candidates.append(executable.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("share/mxarchive/html"))
        candidates.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("exports/html"))
        for candidate in candidates where FileManager.default.fileExists(atPath: candidate.appendingPathComponent("page.html").path) {
            return candidate
        }
        throw ExportError.usage("cannot find the HTML templates (exports/html/page.html); pass --templates DIR")
    }

    init(directory: URL) throws {
        let pageURL = directory.appendingPathComponent("page.html")
        guard let data = FileManager.default.contents(atPath: pageURL.path) else {
            throw ExportError.usage("cannot read the template \(pageURL.path)")
        }
        let page = String(decoding: data, as: UTF8.self)
        for required in ["{{head}}", "{{content}}"] where !page.contains(required) {
            throw ExportError.usage("the template \(pageURL.path) has no \(required) placeholder")
        }
        let parts = page.components(separatedBy: "{{content}}")
        guard parts.count == 2 else { throw ExportError.usage("\(pageURL.path) must contain {{content}} once") }
        for part in parts {
            for name in Self.names(in: part) where !Self.placeholders.contains(name) {
                throw ExportError.usage("the template \(pageURL.path) uses an unknown placeholder {{\(name)}}")
            }
        }
        prefix = parts[0]
        suffix = parts[1]
        let assetsURL = directory.appendingPathComponent("assets")
        var assets: [(String, [UInt8])] = []
        let names = (try? FileManager.default.contentsOfDirectory(atPath: assetsURL.path)) ?? []
        for name in names.sorted() where !name.hasPrefix(".") {
            guard ExportPath.isSafe(name) else { throw ExportError.usage("asset file name not allowed: \(name)") }
            guard let bytes = FileManager.default.contents(atPath: assetsURL.appendingPathComponent(name).path) else { continue }
            assets.append((name, Array(bytes)))
        }
        self.assets = assets
    }

    static func names(in text: String) -> [String] {
        var result: [String] = []
        var rest = text[...]
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else { break }
            result.append(String(rest[open.upperBound..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        return result
    }

    static func fill(_ text: String, _ values: [String: String]) -> String {
        var output = ""
        var rest = text[...]
        while let open = rest.range(of: "{{") {
            output += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else { rest = rest[open.lowerBound...]; break }
            output += values[String(rest[open.upperBound..<close.lowerBound])] ?? ""
            rest = rest[close.upperBound...]
        }
        return output + rest
    }
}
