import Foundation
import Testing

@Suite("edgekv config: --binding, --preview, --config, --env")
struct ConfigTests {
    static let toml = """
        name = "demo"

        [[kv_namespaces]]
        binding = "SESSIONS"
        id = "abc123"
        preview_id = "prev456"

        [[kv_namespaces]]
        binding = "CACHE"
        id = "cache789"
        """

    @Test("wrangler.toml in the working directory: --binding writes where wrangler dev reads (preview_id ?? id)")
    func tomlBinding() async throws {
        let box = try Sandbox()
        try box.workFile("wrangler.toml", Self.toml)
        try await box.ok("key", "put", "k", "dev", "--binding", "SESSIONS")
        try await box.ok("key", "put", "c", "cached", "--binding", "CACHE")

        do {
            let got = try await box.value("k", "--namespace-id", "prev456")
            #expect(got == "dev")
        }
        do {
            let got = try await box.value("c", "--namespace-id", "cache789")
            #expect(got == "cached")
        }
        do {
            let got = try await box.value("k", "--binding", "SESSIONS", "--preview")
            #expect(got == "dev")
        }
        let ids = Set(try await box.namespaceIDs())
        #expect(ids == ["prev456", "cache789"], "preview_id ?? id ?? binding; the binding name is no namespace")

        // --preview on a binding without preview_id is an error that says what to add.
        let refused = try await box.kv("key", "put", "c", "x", "--binding", "CACHE", "--preview")
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("preview_id"), "\(refused)")

        let list = try await box.ok("key", "list", "--binding", "SESSIONS").json()
        #expect(list == [["name": "k"]])
        let file = try box.file("keys.json", (["k", "c"] as JSON).serialized)
        let bulk = try await box.ok("bulk", "get", file, "--binding", "SESSIONS").json()
        #expect(bulk == ["k": "dev", "c": nil])
    }

    @Test("wrangler.jsonc with comments and trailing commas via --config PATH")
    func jsoncViaConfigPath() async throws {
        let box = try Sandbox()
        let path = try box.file(
            "conf/wrangler.jsonc",
            """
            // The app's config.
            {
              /* a block comment */
              "name": "demo", // trailing comment
              "kv_namespaces": [
                { "binding": "SESSIONS", "id": "json-main", "preview_id": "json-prev", },
                { "binding": "CACHE", "id": "json-cache", },
              ],
            }
            """)
        try await box.ok("key", "put", "k", "dev", "--binding", "SESSIONS", "--config", path)
        try await box.ok("key", "put", "c", "cached", "--binding", "CACHE", "--config", path)
        do {
            let got = try await box.value("k", "--namespace-id", "json-prev")
            #expect(got == "dev")
        }
        do {
            let got = try await box.value("c", "--namespace-id", "json-cache")
            #expect(got == "cached")
        }
        let ids = Set(try await box.namespaceIDs())
        #expect(ids == ["json-prev", "json-cache"])
    }

    @Test("wrangler.jsonc in the working directory is found without --config")
    func jsoncDiscovered() async throws {
        let box = try Sandbox()
        try box.workFile("wrangler.jsonc", "{ \"kv_namespaces\": [ { \"binding\": \"KV\", \"id\": \"found\" }, ], }")
        try await box.ok("key", "put", "k", "v", "--binding", "KV")
        #expect(try await box.namespaceIDs() == ["found"])
    }

    @Test("an unknown binding fails, lists the configured bindings, writes nothing")
    func unknownBinding() async throws {
        let box = try Sandbox()
        try box.workFile("wrangler.toml", Self.toml)
        let result = try await box.kv("key", "put", "k", "v", "--binding", "NOPE")
        #expect(result.status != 0, "\(result)")
        for text in ["NOPE", "SESSIONS", "CACHE"] { #expect(result.stderr.contains(text), "\(result)") }
        #expect(try await box.namespaceIDs() == [])
    }

    @Test("a broken config fails with an error naming the file, writes nothing")
    func brokenConfig() async throws {
        let box = try Sandbox()
        try box.workFile("wrangler.toml", "[[kv_namespaces]]\nbinding = \"SESSIONS\nid = ")
        let discovered = try await box.kv("key", "put", "k", "v", "--binding", "SESSIONS")
        #expect(discovered.status != 0, "\(discovered)")
        #expect(discovered.stderr.contains("wrangler.toml"), "\(discovered)")

        let path = try box.file("elsewhere/broken-config.jsonc", "{ \"kv_namespaces\": [ { \"binding\": ")
        let given = try await box.kv("key", "put", "k", "v", "--binding", "SESSIONS", "--config", path)
        #expect(given.status != 0, "\(given)")
        #expect(given.stderr.contains("broken-config.jsonc"), "\(given)")

        let missing = try await box.kv("key", "put", "k", "v", "--binding", "S", "--config", box.scratch + "/nope.toml")
        #expect(missing.status != 0 && missing.stderr.contains("nope.toml"), "\(missing)")
        #expect(try await box.namespaceIDs() == [])
    }

    @Test("without any config, --binding NAME is the namespace id")
    func bindingWithoutConfig() async throws {
        let box = try Sandbox()
        try await box.ok("key", "put", "k", "v", "--binding", "X")
        do {
            let got = try await box.value("k", "--namespace-id", "X")
            #expect(got == "v")
        }
        #expect(try await box.namespaceIDs() == ["X"])
    }

    @Test("--env NAME uses that environment's kv_namespaces; an unknown environment is an error")
    func environments() async throws {
        let box = try Sandbox()
        try box.workFile(
            "wrangler.toml",
            """
            [[kv_namespaces]]
            binding = "SESSIONS"
            id = "top-level"

            [env.staging]
            [[env.staging.kv_namespaces]]
            binding = "SESSIONS"
            id = "staging-id"
            """)
        try await box.ok("key", "put", "k", "staging", "--binding", "SESSIONS", "--env", "staging")
        try await box.ok("key", "put", "k", "top", "--binding", "SESSIONS")
        do {
            let got = try await box.value("k", "--namespace-id", "staging-id")
            #expect(got == "staging")
        }
        do {
            let got = try await box.value("k", "--namespace-id", "top-level")
            #expect(got == "top")
        }

        let unknown = try await box.kv("key", "put", "k", "v", "--binding", "SESSIONS", "--env", "production")
        #expect(unknown.status != 0 && unknown.stderr.contains("production"), "\(unknown)")
        #expect(Set(try await box.namespaceIDs()) == ["staging-id", "top-level"])
    }
}
