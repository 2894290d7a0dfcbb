// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "certwatch",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "certwatch", targets: ["certwatch"]),
        .library(name: "DouyinOpenAPI", targets: ["DouyinOpenAPI"]),
        .library(name: "CertWatchCore", targets: ["CertWatchCore"]),
        .library(name: "CertWatch", targets: ["CertWatch"]),
        .library(name: "DouyinSandbox", targets: ["DouyinSandbox"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/pointfreeco/swift-parsing", from: "0.15.2", traits: []),
        .package(url: "https://github.com/swiftcsv/SwiftCSV", from: "0.10.0"),
    ],
    targets: [
        // Douyin Open Platform client: token provider, certificate query, models, error classes.
        .target(
            name: "DouyinOpenAPI",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Pure domain: snapshots, differ, events, poll policy, rules. No networking, no database.
        .target(
            name: "CertWatchCore",
            dependencies: [
                "DouyinOpenAPI",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Parsing", package: "swift-parsing"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // The engine and its edges: store, poller, scheduler, dispatcher, sinks, HTTP API, config.
        .target(
            name: "CertWatch",
            dependencies: [
                "DouyinOpenAPI",
                "CertWatchCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "SwiftCSV", package: "SwiftCSV"),
            ],
            resources: [.copy("Resources/openapi.yaml")]
        ),
        // A local stand-in for Douyin's certificate APIs (token, query, admin, faults, scenarios).
        .target(
            name: "DouyinSandbox",
            dependencies: [
                "DouyinOpenAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // `certwatch demo`: the sandbox, the watcher, rules and delivery together at accelerated time.
        .target(
            name: "CertWatchDemo",
            dependencies: [
                "CertWatch", "CertWatchCore", "DouyinOpenAPI", "DouyinSandbox",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // `certwatch bench`: throughput against the machine's own limits, and the poll policy against uniform polling.
        .target(
            name: "CertWatchBench",
            dependencies: [
                "CertWatch", "CertWatchCore", "DouyinOpenAPI", "DouyinSandbox",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "certwatch",
            dependencies: [
                "CertWatchBench",
                "CertWatchDemo",
                "DouyinOpenAPI",
                "CertWatchCore",
                "CertWatch",
                "DouyinSandbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .testTarget(
            name: "DouyinOpenAPITests",
            dependencies: [
                "DouyinOpenAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "CertWatchCoreTests", dependencies: ["CertWatchCore"]),
        .testTarget(
            name: "CertWatchTests",
            dependencies: [
                "CertWatch", "CertWatchCore", "DouyinOpenAPI", "DouyinSandbox",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "DouyinSandboxTests",
            dependencies: ["DouyinSandbox", "DouyinOpenAPI", .product(name: "Hummingbird", package: "hummingbird")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
