import EdgeSession
import Foundation
import Testing

/// The redis-server the tests use: `EDGEKV_TEST_REDIS_URL` (scripts/test starts one on 127.0.0.1:16379).
enum TestRedis {
    struct NotConfigured: Error, CustomStringConvertible {
        var description: String {
            "EDGEKV_TEST_REDIS_URL is not set, and CI must test the Redis store against a real redis-server: run "
                + "the tests through scripts/test, which starts one on 127.0.0.1:16379 and sets the variable"
        }
    }

    static var url: String? {
        guard let url = ProcessInfo.processInfo.environment["EDGEKV_TEST_REDIS_URL"], !url.isEmpty else { return nil }
        return url
    }

    static var isCI: Bool {
        guard let ci = ProcessInfo.processInfo.environment["CI"]?.lowercased() else { return false }
        return !ci.isEmpty && ci != "false" && ci != "0"
    }

    /// The URL; without one, fails the test in CI and skips it (with the reason) elsewhere.
    static func requireURL() throws -> String {
        if let url { return url }
        if isCI { throw NotConfigured() }
        try Test.cancel(
            "EDGEKV_TEST_REDIS_URL is not set: skipping this Redis case (scripts/test starts a redis-server and sets it)"
        )
    }

    /// A key prefix no other test uses.
    static func uniquePrefix() -> String { "edgekv-test:\(SessionID.generate().prefix(12)):" }
}
