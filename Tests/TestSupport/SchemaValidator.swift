import Foundation

/// Validates JSON documents against one of the schemas in `schemas/` with Python's `jsonschema`
/// (an independent validator; Synapse's venv carries it).
public enum SchemaValidator {
    public static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Returns the validation errors (empty when every document is valid).
    public static func errors(_ documents: [String], schema: String) throws -> [String] {
        let python = ProcessInfo.processInfo.environment["MXARCHIVE_TEST_PYTHON"] ?? "python3"
        let script = """
            import glob, json, os, sys, jsonschema, referencing
            schema = json.load(open(sys.argv[1]))
            # Schemas refer to each other by $id (e.g. sync-result → keys-report): all of schemas/ is registered.
            resources = [(s["$id"], referencing.Resource.from_contents(s)) for s in
                         (json.load(open(f)) for f in glob.glob(os.path.join(os.path.dirname(sys.argv[1]), "*.json")))]
            validator = jsonschema.Draft202012Validator(schema, registry=referencing.Registry().with_resources(resources))
            jsonschema.Draft202012Validator.check_schema(schema)
            bad = 0
            for number, line in enumerate(sys.stdin, 1):
                for error in validator.iter_errors(json.loads(line)):
                    bad += 1
                    if bad <= 20: print(f"document {number}: {error.json_path}: {error.message[:200]}")
            print(f"checked {number if 'number' in dir() else 0}")
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, "-c", script, repository.appendingPathComponent("schemas/\(schema)").path]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let payload = Data(documents.map { $0 + "\n" }.joined().utf8)
        DispatchQueue.global().async {
            input.fileHandleForWriting.write(payload)
            try? input.fileHandleForWriting.close()
        }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let lines = text.split(separator: "\n").map(String.init)
        guard process.terminationStatus == 0, lines.last == "checked \(documents.count)" else {
            return lines.isEmpty ? ["validator failed to run"] : lines
        }
        return Array(lines.dropLast())
    }
}
