// swift-tools-version:6.1
import PackageDescription

let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "EdgeKV",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "EdgeKV", targets: ["EdgeKV"]),
        .library(name: "EdgeKVSQLite", targets: ["EdgeKVSQLite"]),
        .library(name: "EdgeConfig", targets: ["EdgeConfig"]),
        .library(name: "EdgeWrangler", targets: ["EdgeWrangler"]),
        .library(name: "Edge", targets: ["Edge"]),
        .library(name: "EdgeHTTP", targets: ["EdgeHTTP"]),
        .library(name: "EdgeSession", targets: ["EdgeSession"]),
        .library(name: "EdgeSessionRedis", targets: ["EdgeSessionRedis"]),
        .library(name: "EdgeKVAPI", targets: ["EdgeKVAPI"]),
        .library(name: "EdgeKVCloudflare", targets: ["EdgeKVCloudflare"]),
        .library(name: "EdgeReplay", targets: ["EdgeReplay"]),
        .library(name: "EdgeKVConsistency", targets: ["EdgeKVConsistency"]),
        .library(name: "EdgeKVMiniflare", targets: ["EdgeKVMiniflare"]),
        .library(name: "EdgeSync", targets: ["EdgeSync"]),
        .executable(name: "edgekv", targets: ["edgekv"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", exact: "0.6.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.1"),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // No pkgConfig: hiredis.pc carries -D_FILE_OFFSET_BITS=64, which SwiftPM refuses with a warning.
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev"])]),
        .target(name: "EdgeSupport"),
        .target(name: "EdgeKV", dependencies: ["EdgeSupport"]),
        .target(name: "CSpawn"),
        .target(name: "EdgeSpawn", dependencies: ["CSpawn"]),
        .target(name: "EdgeKVSQLite", dependencies: ["EdgeKV", "EdgeSupport", "CSQLite"]),
        .target(name: "EdgeConfig", dependencies: ["EdgeSupport", .product(name: "TOMLKit", package: "TOMLKit")]),
        .target(
            name: "Edge",
            dependencies: [
                "EdgeKV", "EdgeSupport",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "EdgeWrangler", dependencies: ["Edge", "EdgeConfig", "EdgeKV"]),
        .target(
            name: "EdgeHTTP",
            dependencies: [
                "Edge",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(
            name: "EdgeKVAPI",
            dependencies: [
                "Edge", "EdgeKV", "EdgeSupport",
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "EdgeSession",
            dependencies: ["Edge", "EdgeKV", "EdgeSupport", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(name: "EdgeSessionRedis", dependencies: ["Edge", "EdgeKV", "EdgeSession", "EdgeSupport", "CHiredis"]),
        .target(name: "EdgeKVCloudflare", dependencies: ["EdgeKV", "EdgeSupport", "CCurl"]),
        .target(name: "EdgeKVConsistency", dependencies: ["EdgeKV", "EdgeSupport"]),
        .target(
            name: "EdgeKVMiniflare",
            dependencies: ["EdgeKV", "EdgeKVSQLite", "EdgeSupport", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(name: "EdgeSync", dependencies: ["EdgeKV", "EdgeKVCloudflare"]),
        .target(
            name: "DemoApp",
            dependencies: [
                "Edge", "EdgeKV", "EdgeSession", "EdgeSessionRedis",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "EdgeReplay",
            dependencies: [
                "Edge", "EdgeKV", "EdgeKVSQLite", "EdgeKVConsistency",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "EdgeCommandLine",
            dependencies: ["EdgeKV", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .target(
            name: "EdgeKVBench",
            dependencies: [
                "Edge", "EdgeCommandLine", "EdgeHTTP", "EdgeKV", "EdgeKVAPI", "EdgeKVCloudflare", "EdgeKVSQLite",
                "EdgeSession", "EdgeSessionRedis", "EdgeSpawn", "EdgeSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "edgekv",
            dependencies: [
                "DemoApp", "Edge", "EdgeCommandLine", "EdgeConfig", "EdgeHTTP", "EdgeKV", "EdgeKVAPI", "EdgeKVBench",
                "EdgeKVCloudflare", "EdgeKVConsistency", "EdgeKVMiniflare", "EdgeKVSQLite", "EdgeReplay", "EdgeSync",
                "EdgeWrangler",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "EdgeKVTestSupport",
            dependencies: [
                "Edge", "EdgeHTTP", "EdgeKV", "EdgeKVAPI", "EdgeKVSQLite", "EdgeSpawn",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/EdgeKVTestSupport"),
        .testTarget(name: "EdgeKVTests", dependencies: ["EdgeKV"]),
        .testTarget(name: "EdgeSpawnTests", dependencies: ["EdgeSpawn"]),
        .testTarget(name: "EdgeSupportTests", dependencies: ["EdgeSupport"]),
        .testTarget(name: "EdgeKVMiniflareTests", dependencies: ["EdgeKV", "EdgeKVMiniflare", "EdgeKVTestSupport"]),
        .executableTarget(name: "KVWriter", dependencies: ["EdgeKV", "EdgeKVSQLite"], path: "Tests/KVWriter"),
        .testTarget(
            name: "EdgeKVSQLiteTests",
            // KVWriter is not imported: the tests run the built binary as a child process.
            dependencies: ["EdgeKV", "EdgeKVSQLite", "EdgeKVTestSupport", "EdgeSpawn", "KVWriter"]),
        // EdgeKV only to check that config vars and KV JSON print numbers alike.
        .testTarget(name: "EdgeConfigTests", dependencies: ["EdgeConfig", "EdgeKV"]),
        .testTarget(
            name: "EdgeKVConsistencyTests",
            dependencies: ["EdgeKV", "EdgeKVConsistency", "EdgeKVSQLite", "EdgeKVTestSupport"]),
        .testTarget(
            name: "EdgeKVCloudflareTests",
            dependencies: [
                "EdgeKVCloudflare", "EdgeKVAPI", "EdgeHTTP", "Edge", "EdgeKV", "EdgeKVSQLite", "EdgeKVTestSupport",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "EdgeTests",
            dependencies: [
                "Edge", "EdgeHTTP", "EdgeKV", "EdgeKVSQLite", "EdgeConfig", "EdgeWrangler", "EdgeKVTestSupport",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "EdgeExample",
            dependencies: [
                "Edge", "EdgeHTTP", "EdgeKV", "EdgeKVSQLite", .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        // edgekv is not imported: the tests run the built binary as a child process.
        .testTarget(
            name: "edgekvTests",
            dependencies: ["EdgeKVTestSupport", "EdgeKV", "EdgeKVSQLite", "EdgeSpawn", "EdgeSupport", "edgekv"]),
        .testTarget(
            name: "EdgeKVAPITests",
            dependencies: [
                "EdgeKVAPI", "Edge", "EdgeHTTP", "EdgeKV", "EdgeKVSQLite", "EdgeKVTestSupport", "EdgeSpawn",
                "EdgeSupport",
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]),
        .testTarget(
            name: "EdgeSyncTests",
            dependencies: [
                "EdgeSync", "EdgeKVAPI", "EdgeHTTP", "Edge", "EdgeKV", "EdgeKVSQLite", "EdgeKVCloudflare",
                "EdgeKVMiniflare", "EdgeKVTestSupport",
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .testTarget(
            name: "EdgeSessionTests",
            dependencies: [
                "EdgeSession", "EdgeSessionRedis", "EdgeKV", "EdgeKVSQLite", "EdgeKVConsistency", "EdgeKVTestSupport",
                "EdgeSupport",
                "Edge", .product(name: "HTTPTypes", package: "swift-http-types"),
            ]),
        .testTarget(
            name: "EdgeReplayTests",
            dependencies: [
                "EdgeReplay", "DemoApp", "Edge", "EdgeHTTP", "EdgeKV", "EdgeKVSQLite", "EdgeKVTestSupport",
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
    ]
)

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + upcoming
}
