// swift-tools-version:6.2
import PackageDescription

/// One set of compiler settings for every Agentry target: Swift 6 mode, explicit `any`, and
/// warnings that fail the build.
let strictSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "Agentry",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "agentry", targets: ["AgentryCLI"]),
        .executable(name: "agentry-bench", targets: ["AgentryBench"]),
        .library(name: "AgentryTesting", targets: ["AgentryTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.9.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.20.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.30.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.25.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.30.0"),
        // The MCP endpoint speaks the protocol through its official Swift SDK.
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk.git", from: "0.12.1"),
    ],
    targets: [
        // Pure domain modules: no web framework, no database driver, no HTTP client.
        .target(name: "AgentryLedger", dependencies: ["AgentryIdentity"], swiftSettings: strictSettings),
        .target(
            name: "AgentryAudit",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "AgentryPolicy",
            // Policies are YAML files IT writes; Yams only parses text, it does no I/O.
            dependencies: ["AgentryLedger", .product(name: "Yams", package: "Yams")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "AgentryIdentity",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        // zlib from the system, for the deflate streams of agent packages (docs/decisions/0010).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "AgentryRegistry",
            dependencies: [
                "AgentryIdentity", "AgentryLedger", "AgentryPolicy", "CZlib",
                // Manifests are YAML (agent.yaml).
                .product(name: "Yams", package: "Yams"),
                // The SHA-256 of packages and their files.
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        // Outer rings: stores, gateway, runtime, simulators, server, CLI.
        .target(
            name: "AgentryStore",
            dependencies: ["AgentryIdentity", "AgentryAudit", "AgentryLedger", "AgentryPolicy", "AgentryRegistry"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "AgentrySQLite",
            dependencies: [
                "AgentryStore", "AgentryIdentity", "AgentryAudit", "AgentryLedger", "AgentryRegistry",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "AgentryPostgres",
            dependencies: [
                "AgentryStore", "AgentryIdentity", "AgentryAudit", "AgentryLedger", "AgentryRegistry",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "AgentryGateway",
            dependencies: [
                "AgentryAudit", "AgentryIdentity", "AgentryLedger", "AgentryPolicy", "AgentryRegistry",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                // The model catalog is YAML.
                .product(name: "Yams", package: "Yams"),
                // The credential vault seals with AES-GCM.
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        // fork/exec with resource limits for code agents (and the test harness's processes).
        .target(name: "CAgentrySpawn"),
        .target(
            name: "AgentryRuntime",
            dependencies: ["AgentryGateway", "AgentryRegistry", "CAgentrySpawn"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "AgentrySimulators",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                // Deterministic embeddings and ids from SHA-256.
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "AgentryServer",
            dependencies: [
                "AgentryAudit", "AgentryIdentity", "AgentryStore", "AgentrySQLite", "AgentryPostgres", "AgentryGateway",
                "AgentryPolicy", "AgentryRuntime", "AgentrySimulators",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "MCP", package: "swift-sdk"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "AgentryCLI",
            dependencies: [
                "AgentryServer", "AgentryIdentity", "AgentryAudit", "AgentryLedger", "AgentryStore", "AgentryGateway",
                "AgentryRegistry",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "AgentryBench",
            dependencies: [
                "AgentryAudit", "AgentryLedger", "AgentryStore", "AgentrySQLite", "AgentryPostgres", "AgentryServer",
                "AgentryGateway", "AgentryIdentity",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "AgentryTesting",
            dependencies: [
                "AgentryAudit", "AgentryIdentity", "AgentryLedger", "AgentryStore", "AgentrySQLite", "AgentryPostgres",
                "AgentryServer", "AgentryGateway", "AgentryRuntime",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "AgentryAuditTests",
            dependencies: ["AgentryAudit"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "AgentrySimulatorsTests",
            dependencies: [
                "AgentrySimulators", "AgentryTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "AgentryGatewayTests",
            dependencies: ["AgentryGateway", "AgentryLedger"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "AgentryRegistryTests",
            dependencies: ["AgentryRegistry", "AgentryPolicy", "AgentryLedger"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "AgentryPolicyTests",
            dependencies: ["AgentryPolicy", "AgentryLedger"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "AgentryLedgerTests",
            dependencies: ["AgentryLedger", "AgentryIdentity"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "AgentryIdentityTests",
            dependencies: ["AgentryIdentity"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "AgentryStoreTests",
            dependencies: [
                "AgentryTesting", "AgentryAudit", "AgentryLedger", "AgentrySQLite", "AgentryPostgres", "AgentryStore",
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "AgentryServerTests",
            dependencies: [
                "AgentryServer", "AgentryTesting", "AgentryAudit", "AgentryLedger", "AgentryRuntime", "AgentryRegistry",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "AgentryCLITests",
            dependencies: [
                "AgentryTesting", "AgentryAudit", "AgentryServer", "AgentryStore", "AgentryGateway",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
