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
        ]),
        // Exports: JSON / HTML / TXT renderers, the directory and libarchive sinks, the manifest and its
        // verification. Templates and assets are read at run time from exports/html/ (restyleable). They
        // read the archive through the `ExportSource` protocol, not the SQLite store.
        .target(name: "Exporters", dependencies: [
            "ArchiveCore", "CArchive", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .executableTarget(name: "mxarchive", dependencies: [
            "ArchiveService",
            "Exporters",
            "MatrixCrypto",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // `scripts/bench search`: query latencies through the library, in one process.
        .executableTarget(name: "SearchBench", dependencies: ["ArchiveService", "ArchiveStore", "ArchiveCore"]),
        .testTarget(name: "ArchiveCoreTests", dependencies: ["ArchiveCore", "ArchiveStore", "MatrixAPI", "ArchiveService",
                                                             "SearchIndex", "Exporters", "MatrixCrypto"],
                    exclude: ["Fixtures"]),
        // Drives the built `mxarchive` binary against the real Synapse that scripts/test starts.
        .testTarget(name: "IntegrationTests", dependencies: [
            "ArchiveCore", "mxarchive", .product(name: "Crypto", package: "swift-crypto"),
        ], exclude: ["Golden"]),
    ],
    cxxLanguageStandard: .cxx17
)
