// swift-tools-version: 6.1
import PackageDescription

let asyncHTTPClient = Target.Dependency.product(name: "AsyncHTTPClient", package: "async-http-client")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioHTTP1 = Target.Dependency.product(name: "NIOHTTP1", package: "swift-nio")
let httpTypes = Target.Dependency.product(name: "HTTPTypes", package: "swift-http-types")
let hummingbird = Target.Dependency.product(name: "Hummingbird", package: "hummingbird")
let serviceLifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let grdb = Target.Dependency.product(name: "GRDB", package: "GRDB.swift")
let postgresNIO = Target.Dependency.product(name: "PostgresNIO", package: "postgres-nio")
let yams = Target.Dependency.product(name: "Yams", package: "Yams")
let crypto = Target.Dependency.product(name: "Crypto", package: "swift-crypto")
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
let prometheus = Target.Dependency.product(name: "Prometheus", package: "swift-prometheus")

let package = Package(
    name: "certwatch",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "certwatch", targets: ["certwatch"]),
        .library(name: "DouyinModels", targets: ["DouyinModels"]),
        .library(name: "DouyinOpenAPI", targets: ["DouyinOpenAPI"]),
        .library(name: "CertWatchCore", targets: ["CertWatchCore"]),
        .library(name: "CertWatch", targets: ["CertWatch"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swiftcsv/SwiftCSV", from: "0.10.0"),
    ],
    targets: [
        // Douyin's answers as certwatch reads them: models, JSON (exact integers, drift), error classes,
        // push signatures. No networking: what CertWatchCore builds on.
        .target(name: "DouyinModels", dependencies: [crypto]),
        // The Douyin Open Platform client: token provider, certificate query, list APIs (re-exports DouyinModels).
        .target(name: "DouyinOpenAPI", dependencies: ["DouyinModels", asyncHTTPClient, logging, nioCore, nioHTTP1, crypto]),
        // Pure domain: snapshots, differ, events, poll policy, rules. No networking, no database.
        .target(
            name: "CertWatchCore",
            dependencies: ["DouyinModels", crypto, yams, .product(name: "Mustache", package: "swift-mustache")]
        ),
        // The engine and its edges: store, poller, scheduler, dispatcher, sinks, HTTP API, config.
        .target(
            name: "CertWatch",
            dependencies: [
                "DouyinOpenAPI", "CertWatchCore", grdb, postgresNIO, asyncHTTPClient, hummingbird, serviceLifecycle,
                .product(name: "UnixSignals", package: "swift-service-lifecycle"), logging, metrics, prometheus, crypto,
                yams, nioCore, nioHTTP1, httpTypes, .product(name: "SwiftCSV", package: "SwiftCSV"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            resources: [.copy("Resources/openapi.yaml"), .copy("Resources/console")]
        ),
        // Tools around the engine, kept out of it: the local webhook receiver (`certwatch listen`) and
        // loopback servers, used by the CLI, the demo, the tests and the benchmarks.
        .target(name: "CertWatchTesting", dependencies: ["CertWatch", hummingbird, logging, nioCore, serviceLifecycle]),
        // A local stand-in for Douyin's certificate APIs (token, query, admin, faults, scenarios).
        .target(
            name: "DouyinSandbox",
            dependencies: [
                "DouyinOpenAPI", hummingbird, logging, yams, nioCore, httpTypes, serviceLifecycle, asyncHTTPClient,
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ]
        ),
        // `certwatch demo`: the sandbox, the watcher, rules and delivery together at accelerated time.
        .target(
            name: "CertWatchDemo",
            dependencies: [
                "CertWatch", "CertWatchCore", "CertWatchTesting", "DouyinOpenAPI", "DouyinSandbox", logging,
                serviceLifecycle,
            ]
        ),
        // `certwatch bench` (and `rules bench`, `deliveries bench`): every benchmark, measured against the
        // machine's own limits.
        .target(
            name: "CertWatchBench",
            dependencies: [
                "CertWatch", "CertWatchCore", "CertWatchTesting", "DouyinOpenAPI", "DouyinSandbox", asyncHTTPClient, hummingbird, logging,
                serviceLifecycle, nioCore,
            ]
        ),
        .executableTarget(
            name: "certwatch",
            dependencies: [
                "CertWatchBench", "CertWatchDemo", "CertWatchTesting", "DouyinOpenAPI", "CertWatchCore", "CertWatch",
                "DouyinSandbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"), serviceLifecycle, logging, metrics,
                prometheus,
            ]
        ),
        .testTarget(
            name: "DouyinOpenAPITests",
            dependencies: ["DouyinOpenAPI", "DouyinModels", asyncHTTPClient, hummingbird, logging, nioCore],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "CertWatchCoreTests", dependencies: ["CertWatchCore", "DouyinModels"]),
        // The schedule-efficiency simulation (pure, seeded): detectors, unregistered orders, oracle.
        .testTarget(name: "CertWatchBenchTests", dependencies: ["CertWatchBench", "CertWatchCore", "DouyinOpenAPI"]),
        .testTarget(
            name: "CertWatchTests",
            dependencies: [
                "CertWatch", "CertWatchCore", "CertWatchTesting", "DouyinOpenAPI", "DouyinSandbox", asyncHTTPClient, logging,
                hummingbird,
                .product(name: "HummingbirdTesting", package: "hummingbird"), yams, grdb, httpTypes, metrics, prometheus,
            ]
        ),
        .testTarget(
            name: "CertWatchDemoTests",
            dependencies: ["CertWatchDemo", "CertWatch", "CertWatchCore", "DouyinOpenAPI", "DouyinSandbox"]
        ),
        .testTarget(
            name: "DouyinSandboxTests",
            dependencies: ["DouyinSandbox", "DouyinOpenAPI", hummingbird, asyncHTTPClient, logging, nioCore, nioHTTP1],
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
