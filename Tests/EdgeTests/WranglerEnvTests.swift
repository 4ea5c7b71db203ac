import Edge
import EdgeConfig
import EdgeHTTP
import EdgeKV
import EdgeKVSQLite
import EdgeKVTestSupport
import EdgeWrangler
import Foundation
import HTTPTypes
import Testing

/// A wrangler config file on disk becomes a platform env on the local emulator, as `wrangler dev` would bind it.
@Suite struct WranglerEnvTests {
    /// The same configuration in each format wrangler reads.
    static let files: [(name: String, text: String)] = [
        (
            "wrangler.toml",
            """
            name = "shop"

            [vars]
            GREETING = "hello"
            PORT = 8080
            DEBUG = true

            [[kv_namespaces]]
            binding = "SESSIONS"
            id = "sessions-prod"
            preview_id = "sessions-preview"

            [[kv_namespaces]]
            binding = "CACHE"
            id = "cache-prod"

            [[kv_namespaces]]
            binding = "SCRATCH"

            [env.staging]
            vars = { GREETING = "hello from staging" }
            kv_namespaces = [ { binding = "STAGING_KV", id = "staging-kv" } ]

            [env.bare]
            """
        ),
        (
            "wrangler.json",
            """
            {
              "name": "shop",
              "vars": { "GREETING": "hello", "PORT": 8080, "DEBUG": true },
              "kv_namespaces": [
                { "binding": "SESSIONS", "id": "sessions-prod", "preview_id": "sessions-preview" },
                { "binding": "CACHE", "id": "cache-prod" },
                { "binding": "SCRATCH" }
              ],
              "env": {
                "staging": {
                  "vars": { "GREETING": "hello from staging" },
                  "kv_namespaces": [ { "binding": "STAGING_KV", "id": "staging-kv" } ]
                },
                "bare": {}
              }
            }
            """
        ),
        (
            "wrangler.jsonc",
            """
            // The shop worker.
            {
              "name": "shop",
              /* vars are strings to the worker */
              "vars": { "GREETING": "hello", "PORT": 8080, "DEBUG": true, },
              "kv_namespaces": [
                { "binding": "SESSIONS", "id": "sessions-prod", "preview_id": "sessions-preview" }, // dev uses preview
                { "binding": "CACHE", "id": "cache-prod" },
                { "binding": "SCRATCH" },
              ],
              "env": {
                "staging": {
                  "vars": { "GREETING": "hello from staging" },
                  "kv_namespaces": [ { "binding": "STAGING_KV", "id": "staging-kv" } ],
                },
                "bare": {},
              },
            }
            """
        ),
    ]

    static var fileNames: [String] { files.map(\.name) }

    static func load(_ name: String, in directory: TemporaryDirectory) throws -> WranglerConfig {
        let text = try #require(files.first { $0.name == name }?.text)
        let url = URL(fileURLWithPath: directory.file(name))
        try Data(text.utf8).write(to: url)
        return try WranglerConfig.load(from: url)
    }

    @Test(arguments: fileNames)
    func kvNamespacesAndVarsBecomeBindings(file: String) async throws {
        let directory = try TemporaryDirectory()
        let store = try await SQLiteKVStore(directory: directory.path)
        let env = try Env(config: try Self.load(file, in: directory), namespaces: store)

        // Namespace id = preview_id ?? id ?? binding: write through the store by id, read through the binding.
        for (binding, id) in [("SESSIONS", "sessions-preview"), ("CACHE", "cache-prod"), ("SCRATCH", "SCRATCH")] {
            try await store.namespace(id: id).put("probe", "in \(id)")
            #expect(try await env.kv(binding).get("probe") == "in \(id)", "binding \(binding)")
        }
        #expect(try await store.namespace(id: "sessions-prod").get("probe") == nil)
        #expect(env.string("GREETING") == "hello")
        #expect(env.string("PORT") == "8080")
        #expect(env.string("DEBUG") == "true")

        // The env works for a handler, and its writes land in the emulator's file.
        let runtime = EdgeRuntime(env: env, logger: quietLogger) { _, context in
            try await context.env.kv("SESSIONS").put("from-handler", try context.env.requireString("GREETING"))
            return .text("ok")
        }
        #expect(await runtime.handle(Request(method: .post, "/")).status == .ok)
        let reopened = try await SQLiteKVStore(directory: directory.path)
        #expect(try await reopened.namespace(id: "sessions-preview").get("from-handler") == "hello")
    }

    @Test(arguments: fileNames)
    func environmentsDoNotInheritBindings(file: String) async throws {
        let directory = try TemporaryDirectory()
        let store = try await SQLiteKVStore(directory: directory.path)
        let config = try Self.load(file, in: directory)

        let staging = try Env(config: try config.environment("staging"), namespaces: store)
        try await store.namespace(id: "staging-kv").put("probe", "staging")
        #expect(try await staging.kv("STAGING_KV").get("probe") == "staging")
        #expect(staging.string("GREETING") == "hello from staging")
        #expect(staging.string("PORT") == nil)
        let missing = #expect(throws: EnvError.self) { try staging.kv("SESSIONS") }
        #expect(
            missing?.description
                == #"no KV namespace is bound to "SESSIONS"; configured KV namespaces: STAGING_KV; vars: GREETING"#)

        let bare = try Env(config: try config.environment("bare"), namespaces: store)
        #expect(bare.bindings.isEmpty)

        let unknown = #expect(throws: ConfigError.self) { try config.environment("production") }
        #expect(unknown?.code == .unknownEnvironment)
        #expect(
            unknown?.description
                == "\(file): env.production: environment is not defined (known environments: bare, staging)")
    }

    struct Clash: Sendable, CustomTestStringConvertible {
        var file: String
        var text: String
        var environment: String?
        var message: String

        var testDescription: String { "\(file) \(environment ?? "top level")" }
    }

    static let clashes: [Clash] = [
        Clash(
            file: "wrangler.toml",
            text: """
                [vars]
                SESSIONS = "oops"

                [[kv_namespaces]]
                binding = "SESSIONS"
                id = "s"
                """,
            environment: nil,
            message: #"wrangler.toml: vars.SESSIONS: "SESSIONS" is also a kv_namespaces binding; "#
                + "a binding name must be unique"),
        Clash(
            file: "wrangler.jsonc",
            text: """
                {
                  "env": {
                    "staging": {
                      "vars": { "CACHE": "x" }, // clashes with the binding below
                      "kv_namespaces": [ { "binding": "CACHE", "id": "c" } ],
                    },
                  },
                }
                """,
            environment: "staging",
            message: #"wrangler.jsonc: env.staging.vars.CACHE: "CACHE" is also a kv_namespaces binding; "#
                + "a binding name must be unique"),
    ]

    @Test(arguments: clashes)
    func varClashingWithKVBindingNamesFileAndKey(clash: Clash) async throws {
        let directory = try TemporaryDirectory()
        let url = URL(fileURLWithPath: directory.file(clash.file))
        try Data(clash.text.utf8).write(to: url)
        let store = try await SQLiteKVStore(directory: directory.path)
        let config = try WranglerConfig.load(from: url).environment(clash.environment)
        let error = #expect(throws: EnvError.self) { try Env(config: config, namespaces: store) }
        #expect(error?.description == clash.message)
    }

    @Test func overridesReplaceVarsButNotBindings() async throws {
        let directory = try TemporaryDirectory()
        let store = try await SQLiteKVStore(directory: directory.path)
        let config = try Self.load("wrangler.toml", in: directory)
        let env = try Env(config: config, namespaces: store, overrides: ["GREETING": "hi", "NEW": "1"])
        #expect(env.string("GREETING") == "hi")
        #expect(env.string("NEW") == "1")
        let error = #expect(throws: EnvError.self) {
            try Env(config: config, namespaces: store, overrides: ["CACHE": "x"])
        }
        #expect(
            error?.description == #"--var CACHE: "CACHE" is a KV namespace binding in wrangler.toml; pick another name"#
        )
    }

    struct Malformed: Sendable, CustomTestStringConvertible {
        var file: String
        var text: String
        var message: String

        var testDescription: String { message }
    }

    static let malformed: [Malformed] = [
        Malformed(
            file: "wrangler.toml", text: "[[kv_namespaces]]\nbinding = 7\n",
            message: "wrangler.toml: kv_namespaces[0].binding: expected a string, got an integer"),
        Malformed(
            file: "wrangler.json", text: #"{"kv_namespaces": [{"id": "x"}]}"#,
            message: #"wrangler.json: kv_namespaces[0]: "binding" is required"#),
        Malformed(
            file: "wrangler.jsonc", text: "{\n  \"vars\": { \"A\": 1 \n",
            message: "wrangler.jsonc: line 3, column 1: unexpected end of file, expected ',' or '}'"),
        Malformed(
            file: "wrangler.toml", text: "[[kv_namespaces]]\nbinding = \"A\"\n[[kv_namespaces]]\nbinding = \"A\"\n",
            message: #"wrangler.toml: kv_namespaces[1].binding: binding "A" is already used by kv_namespaces[0]"#),
    ]

    @Test(arguments: malformed)
    func malformedConfigErrorsNameFileAndKey(_ malformed: Malformed) throws {
        let directory = try TemporaryDirectory()
        let url = URL(fileURLWithPath: directory.file(malformed.file))
        try Data(malformed.text.utf8).write(to: url)
        let error = #expect(throws: ConfigError.self) { try WranglerConfig.load(from: url) }
        #expect(error?.description == malformed.message)
    }
}
