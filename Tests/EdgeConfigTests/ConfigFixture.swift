import EdgeConfig
import Foundation
import Testing

/// A fresh directory under the system temporary directory, removed when the test is done with it.
struct ConfigFixture {
    let directory: URL

    private init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("EdgeConfigTests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// Runs `body` with a new empty directory and deletes the directory afterwards.
    static func with<T>(_ body: (ConfigFixture) throws -> T) throws -> T {
        let fixture = try ConfigFixture()
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        return try body(fixture)
    }

    /// Writes `contents` as UTF-8 to `name` inside the directory and returns its URL.
    @discardableResult
    func write(_ contents: String, to name: String) throws -> URL {
        try write(Data(contents.utf8), to: name)
    }

    /// Writes raw bytes to `name` inside the directory and returns its URL.
    @discardableResult
    func write(_ data: Data, to name: String) throws -> URL {
        let url = directory.appendingPathComponent(name, isDirectory: false)
        try data.write(to: url)
        return url
    }

    /// Writes `contents` to `name` in a new directory and loads it.
    static func load(_ contents: String, as name: String) throws -> WranglerConfig {
        try with { fixture in try WranglerConfig.load(from: fixture.write(contents, to: name)) }
    }

    /// Writes `contents` to `name` in a new directory, expects loading it to fail and returns the error.
    static func loadError(
        _ contents: String,
        as name: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> ConfigError? {
        try with { fixture in
            let url = try fixture.write(contents, to: name)
            return #expect(throws: ConfigError.self, sourceLocation: sourceLocation) {
                try WranglerConfig.load(from: url)
            }
        }
    }
}
