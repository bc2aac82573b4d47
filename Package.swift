// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "mxarchive",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "mxarchive", targets: ["mxarchive"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        // TOML parsing for <store>/config.toml (issue 10.3); wrapped by ArchiveService/Config/TOMLDocument.swift only.
        .package(url: "https://github.com/LebJe/TOMLKit", exact: "0.6.0"),
        // `--log-format json`: records go through swift-log with a JSON handler of ours (ArchiveService/Console).
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // System SQLite (Debian: libsqlite3-dev). Imported by ArchiveStore/SQLiteDatabase.swift only.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // Xapian (Debian: libxapian-dev) behind an `extern "C"` C++ shim that catches every exception.
        // Imported by SearchIndex/Xapian.swift only; Swift's C++ interop stays off.
        .target(name: "CXapian", linkerSettings: [.linkedLibrary("xapian")]),
        // System libarchive (Debian: libarchive-dev). Imported by Exporters/LibArchive.swift only.
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        // libolm (Debian: libolm-dev). Imported by MatrixCrypto/Olm.swift only.
        .systemLibrary(name: "COlm", pkgConfig: "olm", providers: [.apt(["libolm-dev"])]),
        // glibc's <malloc.h> (mallopt), which the Glibc module lacks. Imported by Exporters/ExportFileQueue.swift only.
        .systemLibrary(name: "CMalloc"),
        // Sans-I/O core: identifiers, events, pagination and normalisation rules as pure values.
        .target(name: "ArchiveCore"),
        // Typed Client-Server API over a transport (async-http-client in production).
        .target(name: "MatrixAPI", dependencies: [
            "ArchiveCore",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        // Recovery keys, secret storage, key-backup and key-export decryption, megolm (libolm), attachments.
        .target(name: "MatrixCrypto", dependencies: [
            "ArchiveCore", "COlm",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),
        // The SQLite store: schema, migrations, page ingestion, queries.
        .target(name: "ArchiveStore", dependencies: ["ArchiveCore", "CSQLite"]),
        // Full-text search: the query language, Xapian documents, sharded writers, searching and snippets.
        .target(name: "SearchIndex", dependencies: ["ArchiveCore", "CXapian"]),
        // The service layer: the pipelines (sync, keys, search, status, verify, export) wiring the parts
        // together; each returns a result value that renders its own `--json` object.
        .target(name: "ArchiveService", dependencies: [
            "ArchiveCore", "MatrixAPI", "MatrixCrypto", "ArchiveStore", "SearchIndex", "Exporters",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "TOMLKit", package: "TOMLKit"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Exports: JSON / HTML / TXT renderers, the directory and libarchive sinks, the manifest and its
        // verification. Templates and assets are read at run time from exports/html/ (restyleable). They
        // read the archive through the `ExportSource` protocol, not the SQLite store.
        .target(name: "Exporters", dependencies: [
            "ArchiveCore", "CArchive", "CMalloc", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // The CLI: parses, validates, calls the service, prints. It imports nothing else
        // (scripts/check-layers fails the build otherwise).
        .executableTarget(name: "mxarchive", dependencies: [
            "ArchiveService",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // `scripts/bench search`: query latencies through the library, in one process.
        .executableTarget(name: "SearchBench", dependencies: ["ArchiveService", "ArchiveStore", "ArchiveCore"]),
        // Unit tests: one target per library, each linking the library it tests and what its fixtures need.
        // Test targets cannot depend on one another, so helpers shared by several live in two plain library
        // targets under Tests/ (no product names them; no executable links them). TestSupport holds the
        // event factory, the attachment-cipher fixtures, unique temporary folders and the check that human
        // output carries no terminal controls, over ArchiveCore only;
        // the scripted transport is apart in MatrixAPITestSupport, so that only the targets that test HTTP
        // (MatrixAPI and the pipelines) link MatrixAPI and async-http-client.
        .target(name: "TestSupport", dependencies: ["ArchiveCore"], path: "Tests/TestSupport"),
        .target(name: "MatrixAPITestSupport", dependencies: ["MatrixAPI"], path: "Tests/MatrixAPITestSupport"),
        .testTarget(name: "ArchiveCoreTests", dependencies: ["ArchiveCore", "TestSupport"]),
        .testTarget(name: "MatrixAPITests", dependencies: ["MatrixAPI", "ArchiveCore", "MatrixAPITestSupport"]),
        // Fixtures/ is read at run time through #filePath (written by make_e2e_fixture.py, not by this code).
        .testTarget(name: "MatrixCryptoTests", dependencies: ["MatrixCrypto", "ArchiveCore", "TestSupport"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "ArchiveStoreTests", dependencies: ["ArchiveStore", "ArchiveCore", "TestSupport"]),
        .testTarget(name: "SearchIndexTests", dependencies: ["SearchIndex", "ArchiveCore"]),
        .testTarget(name: "ExportersTests", dependencies: ["Exporters", "ArchiveCore", "TestSupport"]),
        // The pipelines over a real store and index; the search suite also reaches into the store and the
        // index writer to simulate a crash and an old schema.
        .testTarget(name: "ArchiveServiceTests", dependencies: [
            "ArchiveService", "ArchiveStore", "SearchIndex", "MatrixAPI", "MatrixCrypto", "Exporters", "ArchiveCore",
            "TestSupport", "MatrixAPITestSupport", .product(name: "Logging", package: "swift-log"),
        ]),
        // Drives the built `mxarchive` binary against the real Synapse that scripts/test starts.
        .testTarget(name: "IntegrationTests", dependencies: [
            "ArchiveCore", "TestSupport", "mxarchive", .product(name: "Crypto", package: "swift-crypto"),
        ], exclude: ["Golden"]),
    ],
    cxxLanguageStandard: .cxx17
)

// Fuzz targets (issue 12.11), one per parser that reads untrusted input. They exist only when
// MXARCHIVE_FUZZ is set, which scripts/fuzz does when it builds them with libFuzzer and AddressSanitizer
// (`--sanitize=fuzzer --sanitize=address`, in .build-fuzz): libFuzzer supplies main(), so they are
// compiled as libraries (-parse-as-library) and never built by a normal `swift build`.
if Context.environment["MXARCHIVE_FUZZ"] != nil {
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("FuzzJSON", ["ArchiveCore"]),
        ("FuzzEvent", ["ArchiveCore"]),
        ("FuzzHTML", ["Exporters"]),
        ("FuzzKeyFiles", ["MatrixCrypto", "ArchiveCore"]),
        ("FuzzSearchQuery", ["SearchIndex", "ArchiveCore"]),
    ]
    for target in fuzzTargets {
        package.targets.append(.executableTarget(name: target.name, dependencies: target.dependencies,
                                                 path: "Tests/Fuzz/\(target.name)",
                                                 swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
    }
}
