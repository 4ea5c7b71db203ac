import EdgeKVTestSupport
import EdgeReplay
import Foundation
import Testing

/// Paths in the repository, found from this file (Tests/EdgeReplayTests/Support/Support.swift).
enum Repo {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// The bundled fixtures folder.
    static let fixtures = (root as NSString).appendingPathComponent("fixtures")

    /// Every bundled fixture file, sorted.
    static func fixtureFiles() throws -> [String] { try Fixture.files(in: [fixtures]) }

    /// The bundled fixture that needs a redis-server on 127.0.0.1:16379.
    static let redisFixture = "redis-store.json"

    /// Whether scripts/test started the redis-server the redis fixture talks to.
    static var redisConfigured: Bool {
        ProcessInfo.processInfo.environment["EDGEKV_TEST_REDIS_URL"].map { !$0.isEmpty } ?? false
    }
}

/// Parses fixture JSON text, failing the test with the parser's message when it is not a valid fixture.
func parseFixture(_ json: String, file: String = "test.json") throws -> Fixture {
    try Fixture.parse(Array(json.utf8), file: file)
}

/// The message a broken fixture gives, or nil when it parses.
func parseError(_ json: String, file: String = "broken.json") -> String? {
    do {
        _ = try Fixture.parse(Array(json.utf8), file: file)
        return nil
    } catch {
        return "\(error)"
    }
}

extension TemporaryDirectory {
    /// Writes `text` to `name` inside the directory and returns the path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let path = file(name)
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }
}
