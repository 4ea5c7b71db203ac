import Foundation
import Testing

/// What someone who knows `wrangler kv` meets in the first hour: the README's commands, wrangler's flags, and
/// mistakes that must be reported rather than ignored.
@Suite("edgekv kv for wrangler users")
struct WranglerParityTests {
    // MARK: Namespaces that do not exist

    @Test("without a config, a binding read of a missing namespace fails naming the namespaces that exist")
    func missingNamespaceRead() async throws {
        let box = try Sandbox()
        let first = try await box.kv("key", "put", "k", "v", "--binding", "SESSIONS")
        #expect(first.status == 0, "\(first)")
        #expect(
            first.stderr == "created namespace \"SESSIONS\" (no config: the binding name is the namespace id)\n",
            "the write that creates the namespace says so: \(first)")
        let second = try await box.kv("key", "put", "k2", "v", "--binding", "SESSIONS")
        #expect(second.status == 0 && second.stderr.isEmpty, "said once, not on every write: \(second)")
        let titled = try await box.ok("namespace", "create", "sessions").stdoutText
            .trimmingCharacters(in: .whitespacesAndNewlines)

        for command in [
            ["key", "list"], ["key", "get", "k"], ["key", "list", "--limit", "5"], ["key", "delete", "k"],
        ] {
            let typo = try await box.run(["kv"] + command + ["--binding", "SESSONS", "--persist-to", box.state])
            #expect(typo.status == 1, "\(typo)")
            #expect(typo.stdout.isEmpty, "\(typo)")
            #expect(
                typo.stderr.contains(
                    "no KV namespace \"SESSONS\" (no config: the binding name is the namespace id); "
                        + "the namespaces are \"SESSIONS\", \"sessions\" (id \(titled))"), "\(typo)")
        }
        let bulk = try await box.kv("bulk", "get", try box.file("keys.json", #"["k"]"#), "--binding", "nope")
        #expect(bulk.status == 1 && bulk.stderr.contains("no KV namespace \"nope\" (no config"), "\(bulk)")
        // A namespace id given as such reads as empty state, as in wrangler's local mode.
        #expect(try await box.ok("key", "list", "--namespace-id", "nope").json() == [])
        // The typo created nothing, and the real namespace still has both keys.
        #expect(try await box.namespaceIDs().sorted() == ["SESSIONS", titled].sorted())
        #expect(try await box.keyNames("SESSIONS") == ["k", "k2"])
    }

    @Test("on fresh state a read names no namespaces and creates no state")
    func missingNamespaceOnFreshState() async throws {
        let box = try Sandbox()
        let list = try await box.kv("key", "list", "--binding", "SESSIONS")
        #expect(list.status == 1, "\(list)")
        #expect(list.stderr.contains("no KV namespace \"SESSIONS\""), "\(list)")
        #expect(list.stderr.contains("there are no namespaces yet"), "\(list)")
        #expect(!FileManager.default.fileExists(atPath: box.state), "a read creates no state")
    }

    @Test("a binding from a config lists as [] before anything was written to it")
    func configBindingNotYetWritten() async throws {
        let box = try Sandbox()
        try box.workFile("wrangler.toml", "[[kv_namespaces]]\nbinding = \"SESSIONS\"\nid = \"abc\"\n")
        #expect(try await box.ok("key", "list", "--binding", "SESSIONS").json() == [])
        let put = try await box.ok("key", "put", "k", "v", "--binding", "SESSIONS")
        #expect(put.stderr == "created namespace \"abc\"\n", "\(put)")
    }

    @Test("the README's first commands: create, put the id in wrangler.toml, then write through the binding")
    func readmeFlow() async throws {
        let box = try Sandbox()
        let created = try await box.kv("namespace", "create", "sessions")
        #expect(created.status == 0, "\(created)")
        let id = created.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(created.stdoutText == id + "\n", "stdout is the id alone: \(created)")
        #expect(id.count == 32 && id.allSatisfy(\.isHexDigit), "\(created)")
        #expect(created.stderr.contains("Created KV namespace \"sessions\" with id \(id)"), "\(created)")
        #expect(
            created.stderr.contains("[[kv_namespaces]]\nbinding = \"sessions\"\nid = \"\(id)\""),
            "the entry to add, in TOML: \(created)")

        try box.workFile("wrangler.toml", "[[kv_namespaces]]\nbinding = \"SESSIONS\"\nid = \"\(id)\"\n")
        let put = try await box.kv("key", "put", "--binding", "SESSIONS", "user:1", #"{"name":"alice"}"#)
        #expect(put.status == 0 && put.stderr.isEmpty, "the write lands in the created namespace: \(put)")
        #expect(try await box.namespaceIDs() == [id])
        #expect(try await box.value("--binding", "SESSIONS", "user:1") == #"{"name":"alice"}"#)
    }

    @Test("namespace create --preview prints a preview_id entry, as JSON when the config is JSON")
    func createPreview() async throws {
        let box = try Sandbox()
        try box.workFile("wrangler.jsonc", #"{ "name": "app", "env": { "staging": {} } }"#)
        let created = try await box.kv("namespace", "create", "my-cache", "--preview")
        #expect(created.status == 0, "\(created)")
        let id = created.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(
            created.stderr.contains("\"binding\": \"my_cache\",\n    \"preview_id\": \"\(id)\""), "\(created)")
        let env = try await box.kv("namespace", "create", "other", "-e", "staging")
        #expect(env.stderr.contains("kv_namespaces array under [env.staging]:"), "\(env)")
    }

    // MARK: wrangler's flags

    @Test("-c and -e are --config and --env")
    func shortConfigAndEnv() async throws {
        let box = try Sandbox()
        let config = try box.file(
            "other.toml",
            "[[kv_namespaces]]\nbinding = \"KV\"\nid = \"top\"\n[env.staging]\n"
                + "[[env.staging.kv_namespaces]]\nbinding = \"KV\"\nid = \"staged\"\n")
        try await box.ok("key", "put", "k", "v", "--binding", "KV", "-c", config, "-e", "staging")
        #expect(try await box.keyNames("staged") == ["k"])
        try await box.ok("key", "put", "k", "v", "--binding", "KV", "-c", config)
        #expect(try await box.keyNames("top") == ["k"])
    }

    @Test("kv key get --text prints the value as text and a newline")
    func getText() async throws {
        let box = try Sandbox()
        try await box.ok("key", "put", "k", "--path", try box.file("v", [0x68, 0x69, 0xFF]), "--namespace-id", "ns")
        let text = try await box.ok("key", "get", "k", "--text", "--namespace-id", "ns")
        #expect(text.stdoutText == "hi\u{FFFD}\n", "\(text)")
        #expect(try await box.ok("key", "get", "k", "--namespace-id", "ns").stdout == [0x68, 0x69, 0xFF])
    }

    @Test("namespace rename OLD --new-name NEW and delete --binding, as in wrangler")
    func renameAndDeleteLikeWrangler() async throws {
        let box = try Sandbox()
        let id = try await box.ok("namespace", "create", "old").stdoutText
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try await box.ok("namespace", "rename", "old", "--new-name", "new")
        #expect(try await box.ok("namespace", "list").json() == [["id": .string(id), "title": "new"]])
        try await box.ok("namespace", "rename", "--namespace-id", id, "--new-name", "newer")
        #expect(try await box.ok("namespace", "list").json() == [["id": .string(id), "title": "newer"]])
        let both = try await box.kv("namespace", "rename", id, "x", "--new-name", "y")
        #expect(both.status == 64, "\(both)")
        let unknown = try await box.kv("namespace", "rename", "nothing", "--new-name", "y")
        #expect(unknown.status == 1 && unknown.stderr.contains("no KV namespace \"nothing\""), "\(unknown)")

        try box.workFile("wrangler.toml", "[[kv_namespaces]]\nbinding = \"CACHE\"\nid = \"\(id)\"\n")
        let deleted = try await box.kv("namespace", "delete", "--binding", "CACHE", "--force")
        #expect(deleted.status == 0, "\(deleted)")
        #expect(try await box.ok("namespace", "list").json() == [])
        let again = try await box.kv("namespace", "delete", "--binding", "CACHE", "--force")
        #expect(again.status == 1 && again.stderr.contains("no KV namespace \"\(id)\""), "\(again)")
    }

    // MARK: Flags that would be ignored

    @Test(
        "a --config that does not exist is refused by every command",
        arguments: [["kv", "namespace", "list"], ["kv", "namespace", "create", "x"], ["api", "--port", "0"]])
    func missingConfig(_ command: [String]) async throws {
        let box = try Sandbox()
        let result = try await box.run(command + ["--config", "/nonexistent.toml", "--persist-to", box.state])
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains("the config file /nonexistent.toml does not exist"), "\(result)")
        #expect(!FileManager.default.fileExists(atPath: box.state))
    }

    @Test(
        "--env on a command that reads no config is a usage error",
        arguments: [
            ["kv", "namespace", "list"], ["kv", "namespace", "rename", "a", "b"], ["kv", "namespace", "delete", "a"],
            ["api", "--port", "0"],
        ])
    func envWithoutConfigUse(_ command: [String]) async throws {
        let box = try Sandbox()
        let result = try await box.run(command + ["--env", "nope", "--persist-to", box.state])
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains("reads no config, so --env nope has no meaning here"), "\(result)")
    }

    // MARK: Numbers

    @Test("--ttl with --expiration is refused; a negative --ttl gets KV's range message")
    func ttlAndExpiration() async throws {
        let box = try Sandbox()
        let pair = try await box.kv(
            "key", "put", "k", "v", "--ttl", "120", "--expiration", "4000000000", "--namespace-id", "ns")
        #expect(pair.status == 64, "\(pair)")
        #expect(pair.stderr.contains("Give --ttl or --expiration, not both"), "\(pair)")
        let negative = try await box.kv("key", "put", "k", "v", "--ttl", "-5", "--namespace-id", "ns")
        #expect(negative.status == 1, "\(negative)")
        #expect(
            negative.stderr.contains("KV PUT failed: 400 Invalid expiration_ttl of -5."),
            "\(negative)")
        let help = try await box.run(["kv", "key", "put", "--help"])
        #expect(help.stdoutText.contains("not with --expiration"), "\(help)")
        #expect(!FileManager.default.fileExists(atPath: box.state), "refused writes create no state")
    }

    @Test("a value that looks like a negative number gets a hint to put it after --")
    func dashValueHint() async throws {
        let box = try Sandbox()
        for command in [["key", "put", "k", "-5"], ["key", "get", "-5"], ["key", "list", "--prefix", "-5"]] {
            let refused = try await box.run(["kv"] + command + ["--namespace-id", "ns", "--persist-to", box.state])
            #expect(refused.status == 64, "\(refused)")
            #expect(refused.stderr.contains("a value that starts with - goes after --, as in `-- -5`"), "\(refused)")
        }
        let pair = try await box.kv("key", "put", "k", "v", "--ttl", "-5", "--expiration", "1", "--namespace-id", "ns")
        #expect(pair.status == 64 && !pair.stderr.contains("Hint"), "--ttl took -5 as its value: \(pair)")
        let put = try await box.run([
            "kv", "key", "put", "k", "--namespace-id", "ns", "--persist-to", box.state, "--", "-5",
        ])
        #expect(put.status == 0, "\(put)")
        #expect(try await box.value("k", "--namespace-id", "ns") == "-5")
    }

    @Test("--limit is checked as the binding checks it")
    func listLimit() async throws {
        let box = try Sandbox()
        try await box.ok("key", "put", "k", "v", "--namespace-id", "ns")
        let over = try await box.kv("key", "list", "--limit", "1001", "--namespace-id", "ns")
        #expect(over.status == 1, "\(over)")
        #expect(
            over.stderr
                == "Error: KV GET failed: 400 Invalid key_count_limit of 1001. Please specify an integer less than 1000.\n",
            "\(over)")
        let zero = try await box.ok("key", "list", "--limit", "0", "--namespace-id", "ns").json()
        #expect(zero == ["keys": [["name": "k"]], "list_complete": true], "0 is the binding's default page: \(zero)")
    }
}
