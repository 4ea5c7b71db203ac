import EdgeKVTestSupport
import Foundation
import Testing

@Suite("edgekv bench")
struct BenchCommandTests {
    /// `--help` output with its line wrapping undone.
    static func help(_ box: Sandbox, _ arguments: String...) async throws -> String {
        try await box.run(arguments + ["--help"]).stdoutText.split(whereSeparator: \.isWhitespace).joined(
            separator: " ")
    }

    @Test("--help states each option's minimum and the exit status on a missed target")
    func helpStatesMinimums() async throws {
        let box = try Sandbox()
        let kv = try await Self.help(box, "bench", "kv")
        #expect(kv.contains("at least 10000") && kv.contains("Rounds per operation, at least 1"), "\(kv)")
        let session = try await Self.help(box, "bench", "session")
        #expect(session.contains("at least 100 ") && session.contains("from 1 to --requests"), "\(session)")
        let api = try await Self.help(box, "bench", "api")
        #expect(api.contains("Rounds, at least 1") && api.contains("round; at least 1."), "\(api)")
        let bench = try await Self.help(box, "bench")
        #expect(bench.contains("the exit status is 1 when any ratio misses it"), "\(bench)")
        // The help and the check agree.
        let small = try await box.run(["bench", "kv", "--large-keys", "9999"])
        #expect(small.status == 64 && small.stderr.contains("--large-keys must be at least 10000."), "\(small)")
    }

    @Test("a run warns when the binary is a debug build, and exits 1 naming exactly the ratios that missed")
    func targetsDecideTheStatus() async throws {
        let box = try Sandbox()
        let result = try await box.run(
            [
                "bench", "session", "--store", "signed", "--store", "encrypted", "--requests", "200", "--rounds", "1",
                "--json", "--work-dir", box.root.file("bench"),
            ],
            timeout: .seconds(120))
        #if DEBUG
        #expect(result.stderr.contains("warning: this edgekv is a debug build"), "\(result)")
        #else
        #expect(!result.stderr.contains("debug build"), "\(result)")
        #endif
        let stores = try #require(try result.json()["stores"]?.objectValue, "\(result)")
        #expect(Set(stores.keys) == ["signed", "encrypted"])
        let missed = stores.filter { $0.value["meets_target"] == .bool(false) }.keys.sorted()
        let named = result.stderr.split(separator: "\n").filter { $0.hasPrefix("target missed: ") }
            .map { String($0.dropFirst("target missed: ".count).prefix { $0 != ":" }) }.sorted()
        #expect(named == missed, "\(result)")
        #expect(result.status == (missed.isEmpty ? 0 : 1), "\(result)")
    }
}
