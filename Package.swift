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
        .executable(name: "edgekv", targets: ["edgekv"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", exact: "0.6.0"),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "EdgeKV"),
        .target(name: "EdgeKVSQLite", dependencies: ["EdgeKV", "CSQLite"]),
        .target(name: "EdgeConfig", dependencies: [.product(name: "TOMLKit", package: "TOMLKit")]),
        .executableTarget(
            name: "edgekv",
            dependencies: [
                "EdgeKV", "EdgeKVSQLite", "EdgeConfig", "CSQLite",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "EdgeKVTestSupport", dependencies: ["EdgeKV", "EdgeKVSQLite"], path: "Tests/EdgeKVTestSupport"),
        .testTarget(name: "EdgeKVTests", dependencies: ["EdgeKV", "EdgeKVTestSupport"]),
        .executableTarget(name: "KVWriter", dependencies: ["EdgeKV", "EdgeKVSQLite"], path: "Tests/KVWriter"),
        .testTarget(
            name: "EdgeKVSQLiteTests", dependencies: ["EdgeKVSQLite", "EdgeKVTestSupport", "CSQLite", "KVWriter"]),
        .testTarget(name: "EdgeConfigTests", dependencies: ["EdgeConfig"]),
        .testTarget(name: "edgekvTests", dependencies: ["EdgeKVTestSupport", "edgekv"]),
    ]
)

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + upcoming
}
