import EdgeKVTestSupport
import Foundation
import Testing

@Suite("edgekv --persist-to")
struct PersistenceTests {
    static func contents(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    }

    @Test("with --persist-to elsewhere, every command leaves the working directory empty")
    func workingDirectoryStaysEmpty() async throws {
        let box = try Sandbox()
        let put = try box.file(
            "put.json", ([["key": "a", "value": "1"], ["key": "b", "value": "2"]] as JSON).serialized)
        let keys = try box.file("keys.json", (["a", "b"] as JSON).serialized)
        let id = try #require(
            try NamespaceCommandTests.ids(in: try await box.ok("namespace", "create", "title").stdoutText).first)
        try await box.ok("namespace", "list")
        try await box.ok("namespace", "rename", id, "title2")
        try await box.ok("key", "put", "k", "v", "--namespace-id", id)
        try await box.ok("key", "put", "p", "--path", "-", "--binding", "B", stdin: [0, 1])
        try await box.ok("key", "get", "k", "--namespace-id", id)
        try await box.ok("key", "get", "k", "--with-metadata", "--namespace-id", id)
        try await box.ok("key", "list", "--namespace-id", id)
        try await box.ok("key", "list", "--limit", "1", "--namespace-id", id)
        try await box.ok("bulk", "put", put, "--namespace-id", id)
        try await box.ok("bulk", "get", keys, "--namespace-id", id)
        try await box.ok("bulk", "delete", keys, "--namespace-id", id)
        try await box.ok("key", "delete", "k", "--namespace-id", id)
        try await box.ok("namespace", "delete", id)
        #expect(try Self.contents(box.work) == [], "the working directory must stay empty")
        #expect(try !Self.contents(box.state).isEmpty, "the state lives under --persist-to")
    }

    @Test("state is per --persist-to directory; the default is .edgekv in the working directory")
    func isolation() async throws {
        let box = try Sandbox()
        let other = box.root.file("other/nested/state")  // does not exist yet
        try await box.ok("key", "put", "k", "mine", "--namespace-id", "ns")
        let elsewhere = try await box.run(["kv", "key", "get", "k", "--namespace-id", "ns", "--persist-to", other])
        #expect(elsewhere.status == 1 && elsewhere.stderr.contains("Value not found"), "\(elsewhere)")
        let written = try await box.run([
            "kv", "key", "put", "k", "theirs", "--namespace-id", "ns", "--persist-to", other,
        ])
        #expect(written.status == 0, "\(written)")
        #expect(try await box.ok("key", "get", "k", "--namespace-id", "ns").stdoutText == "mine")

        // Without --persist-to: .edgekv in the working directory, separate from both.
        let defaultGet = try await box.run(["kv", "key", "get", "k", "--namespace-id", "ns"])
        #expect(defaultGet.status == 1, "\(defaultGet)")
        #expect(try await box.run(["kv", "key", "put", "k", "default", "--namespace-id", "ns"]).status == 0)
        #expect(try Self.contents(box.work) == [".edgekv"])
        #expect(try await box.run(["kv", "key", "get", "k", "--namespace-id", "ns"]).stdoutText == "default")
        #expect(try await box.ok("key", "get", "k", "--namespace-id", "ns").stdoutText == "mine")
    }

    @Test("a --persist-to that is a regular file is a clear error and the file is untouched")
    func persistToRegularFile() async throws {
        let box = try Sandbox()
        let original: [UInt8] = Array("precious data\n".utf8) + [0, 0xFF]
        let path = try box.file("not-a-directory", original)
        let before = try Self.contents(box.scratch)
        for arguments in [
            ["kv", "key", "put", "k", "v", "--namespace-id", "ns"], ["kv", "key", "get", "k", "--namespace-id", "ns"],
            ["kv", "namespace", "list"], ["kv", "namespace", "create", "t"],
        ] {
            let result = try await box.run(arguments + ["--persist-to", path])
            #expect(result.status != 0, "\(result)")
            #expect(result.stderr.contains("not-a-directory"), "the error must name the path: \(result)")
            #expect(!result.stderr.contains("Value not found"), "\(result)")
        }
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == original)
        #expect(try Self.contents(box.scratch) == before, "nothing may be created beside the file")
        #expect(try Self.contents(box.work) == [])
    }
}

@Suite("edgekv --help")
struct HelpTests {
    static let namespaceFlags = ["--binding", "--namespace-id", "--preview", "--local"]
    static let stateFlags = ["--persist-to", "--config", "--env"]

    @Test("edgekv --version prints the version and nothing else")
    func version() async throws {
        let box = try Sandbox()
        let result = try await box.run(["--version"])
        #expect(result.status == 0, "\(result)")
        #expect(
            result.stdoutText.range(of: #"^edgekv \d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil, "\(result)")
        #expect(result.stderr.isEmpty)
    }

    @Test("edgekv --help names the kv command, --persist-to and --config")
    func topLevel() async throws {
        let box = try Sandbox()
        let help = try await box.run(["--help"])
        #expect(help.status == 0, "\(help)")
        for text in ["kv", "--persist-to", "--config"] { #expect(help.stdoutText.contains(text), "\(text): \(help)") }
    }

    @Test("kv key put --help lists every flag")
    func keyPut() async throws {
        let box = try Sandbox()
        let help = try await box.run(["kv", "key", "put", "--help"])
        #expect(help.status == 0, "\(help)")
        for flag in ["--path", "--ttl", "--expiration", "--metadata"] + Self.namespaceFlags + Self.stateFlags {
            #expect(help.stdoutText.contains(flag), "\(flag) missing: \(help)")
        }
        #expect(help.stdoutText.contains("<value>") && help.stdoutText.contains("<key>"))
    }

    @Test(
        "every key and bulk command's help names its flags",
        arguments: [
            (["key", "get"], ["--with-metadata"]), (["key", "list"], ["--prefix", "--limit", "--cursor"]),
            (["key", "delete"], []), (["bulk", "put"], []), (["bulk", "get"], ["--with-metadata"]),
            (["bulk", "delete"], ["--force"]),
        ])
    func keyAndBulkCommands(_ command: [String], _ own: [String]) async throws {
        let box = try Sandbox()
        let help = try await box.run(["kv"] + command + ["--help"])
        #expect(help.status == 0, "\(help)")
        for flag in own + Self.namespaceFlags + Self.stateFlags {
            #expect(help.stdoutText.contains(flag), "\(flag) missing: \(help)")
        }
    }

    @Test(
        "every namespace command's help names --persist-to, --config and --env",
        arguments: [["list"], ["create"], ["rename"], ["delete"]])
    func namespaceCommands(_ command: [String]) async throws {
        let box = try Sandbox()
        let help = try await box.run(["kv", "namespace"] + command + ["--help"])
        #expect(help.status == 0, "\(help)")
        for flag in Self.stateFlags { #expect(help.stdoutText.contains(flag), "\(flag) missing: \(help)") }
        #expect(try PersistenceTests.contents(box.work) == [], "--help must not create state")
    }
}
