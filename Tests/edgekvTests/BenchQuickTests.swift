import EdgeKVTestSupport
import Foundation
import Testing

/// Each benchmark runs once in its quick mode, so that one that no longer runs is noticed. The figures of a debug
/// build on a shared machine mean nothing: only the exit status and the shape of the report are checked.
@Suite("edgekv bench --quick")
struct BenchQuickTests {
    /// A benchmark's own work bounds its run; this catches a hang on a loaded machine.
    static let timeout = Duration.seconds(300)

    static func run(_ box: Sandbox, _ arguments: [String]) async throws -> CLIResult {
        let result = try await box.run(
            ["bench"] + arguments + ["--quick", "--work-dir", box.root.file("bench")], timeout: timeout)
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.contains("quick run: the figures are not measurements and no target was checked"))
        #expect(!result.stderr.contains("target missed"), "\(result)")
        return result
    }

    /// Every listed member is a number (its value is not checked), or a bool for `meets_target`.
    static func expectFigures(_ entry: JSON?, _ names: [String], _ context: String) {
        for name in names {
            if name == "meets_target" {
                guard case .bool = entry?[name] else {
                    Issue.record("\(context).\(name) is not a bool: \(String(describing: entry))")
                    continue
                }
            } else {
                #expect(entry?[name]?.numberValue != nil, "\(context).\(name): \(String(describing: entry))")
            }
        }
    }

    /// The first word of each non-empty line of a table.
    static func rows(_ text: String) -> [String] {
        text.split(separator: "\n").map { String($0.split(separator: " ").first ?? "") }
    }

    @Test("bench kv --quick: exit 0, every operation and scaling figure in the JSON, and the table's rows")
    func kv() async throws {
        let box = try Sandbox()
        let help = try await box.run(["bench", "kv", "--help"]).stdoutText
        #expect(help.contains("--quick"), "\(help)")

        let report = try await Self.run(box, ["kv", "--json"]).json()
        #expect(report["benchmark"] == .string("kv") && report["quick"] == .bool(true), "\(report)")
        let operations = try #require(report["operations"]?.objectValue, "\(report)")
        #expect(Set(operations.keys) == ["get", "put", "list_page"])
        for (name, entry) in operations {
            Self.expectFigures(
                entry,
                [
                    "emulator_ops_per_sec", "baseline_ops_per_sec", "cross_thread_ops_per_sec", "ratio", "target",
                    "meets_target",
                ], name)
        }
        let scaling = try #require(report["scaling"]?.objectValue, "\(report)")
        #expect(Set(scaling.keys) == ["get", "list_page"])
        for (name, entry) in scaling {
            Self.expectFigures(
                entry, ["keys_10k_ops_per_sec", "keys_large_ops_per_sec", "ratio", "target", "meets_target"], name)
            #expect(entry["large_keys"] == .number(10_000), "a quick run scales to 10,000 keys only")
        }

        let table = try await Self.run(box, ["kv"]).stdoutText
        #expect(
            Self.rows(table) == ["operation", "get", "put", "list_page", "scaling", "get", "list_page", "quick"],
            "\(table)")
    }

    @Test("bench session --quick: exit 0, every store in the JSON (redis measured or unavailable)")
    func session() async throws {
        let box = try Sandbox()
        let report = try await Self.run(box, ["session", "--json"]).json()
        #expect(report["benchmark"] == .string("session") && report["quick"] == .bool(true), "\(report)")
        #expect(report["rounds"] == .number(1) && report["requests_per_round"] == .number(100), "\(report)")
        Self.expectFigures(report, ["runtime_without_session_us_per_request"], "session")
        let stores = try #require(report["stores"]?.objectValue, "\(report)")
        #expect(Set(stores.keys) == ["unsigned", "signed", "encrypted", "memory", "redis", "kv"], "\(report)")
        for (name, entry) in stores {
            // Redis is reported unavailable, not measured, when no redis-server answers.
            if name == "redis" && entry["available"] == .bool(false) {
                #expect(entry["error"]?.stringValue?.isEmpty == false, "\(entry)")
                continue
            }
            #expect(entry["available"] == .bool(true), "\(name): \(entry)")
            Self.expectFigures(entry, ["cost_us_per_request", "requests_per_second", "floor_us", "ratio"], name)
            #expect(entry["floor"]?.stringValue?.isEmpty == false, "\(name): \(entry)")
            if name == "signed" || name == "encrypted" { Self.expectFigures(entry, ["target", "meets_target"], name) }
        }
    }

    @Test("bench api --quick: exit 0, read, write and overall figures and the connection counts in the JSON")
    func api() async throws {
        let box = try Sandbox()
        let report = try await Self.run(box, ["api", "--json"]).json()
        #expect(report["benchmark"] == .string("api") && report["quick"] == .bool(true), "\(report)")
        #expect(report["rounds"] == .number(1), "\(report)")
        for name in ["read", "write"] {
            Self.expectFigures(
                report[name], ["client_requests_per_sec", "curl_requests_per_sec", "ratio", "target", "meets_target"],
                name)
        }
        Self.expectFigures(
            report,
            [
                "client_requests_per_sec", "curl_requests_per_sec", "ratio", "target", "meets_target",
                "client_connections", "curl_connections", "curl_invocations", "curl_startup_ms",
            ], "api")
        #expect(report["baseline"]?.stringValue?.hasPrefix("curl ") == true, "\(report)")
    }
}
