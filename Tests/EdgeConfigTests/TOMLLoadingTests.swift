import EdgeConfig
import Foundation
import Testing

@Suite("Loading wrangler.toml")
struct TOMLLoadingTests {
    static let fullConfig = """
        # A realistic file: keys EdgeKV does not use must be ignored.
        name = "my-worker"
        main = "src/index.ts"
        compatibility_date = "2025-01-01"
        workers_dev = true

        [build]
        command = "npm run build"

        [vars]
        API_HOST = "https://api.example.com"
        PORT = 8080
        RATIO = 1.5
        WHOLE_FLOAT = 2.0
        DEBUG = true
        TAGS = ["a", 1, 2.5, false]
        LIMITS = { burst = 10, name = "x\\"y" }
        RELEASED = 1979-05-27
        STAMP = 1979-05-27T07:32:00Z

        [[kv_namespaces]]
        binding = "SESSIONS"
        id = "0f2ac74b498b48028cb68387c421e279"
        preview_id = "6a1ddb03f3ec250963f0a1e46820076f"

        [[kv_namespaces]]
        binding = "CACHE"
        id = "c4c8c1d1d9b24f1b8b1f2f7c8e3b1a90"
        remote = true

        [[kv_namespaces]]
        binding = "LOCAL_ONLY"

        [[d1_databases]]
        binding = "DB"
        database_name = "db"
        database_id = "x"

        [env.staging]
        name = "my-worker-stg"
        vars = { API_HOST = "https://staging.example.com" }

        [[env.staging.kv_namespaces]]
        binding = "SESSIONS"
        id = "staging-sessions"

        [env.production]
        route = "example.com/*"
        """

    @Test func loadsNameVarsAndNamespaces() throws {
        let config = try ConfigFixture.load(Self.fullConfig, as: "wrangler.toml")

        #expect(config.name == "my-worker")
        #expect(config.environmentName == nil)
        #expect(config.fileURL?.lastPathComponent == "wrangler.toml")
        #expect(
            config.kvNamespaces == [
                KVNamespaceBinding(
                    binding: "SESSIONS",
                    id: "0f2ac74b498b48028cb68387c421e279",
                    previewId: "6a1ddb03f3ec250963f0a1e46820076f"
                ),
                KVNamespaceBinding(binding: "CACHE", id: "c4c8c1d1d9b24f1b8b1f2f7c8e3b1a90", remote: true),
                KVNamespaceBinding(binding: "LOCAL_ONLY"),
            ]
        )
        #expect(config.environments.keys.sorted() == ["production", "staging"])
    }

    @Test func convertsVarsOfEveryTypeToText() throws {
        let config = try ConfigFixture.load(Self.fullConfig, as: "wrangler.toml")

        #expect(
            config.vars == [
                "API_HOST": "https://api.example.com",
                "PORT": "8080",
                "RATIO": "1.5",
                "WHOLE_FLOAT": "2",
                "DEBUG": "true",
                "TAGS": #"["a",1,2.5,false]"#,
                "LIMITS": #"{"burst":10,"name":"x\"y"}"#,
                "RELEASED": "1979-05-27",
                "STAMP": "1979-05-27T07:32:00Z",
            ]
        )
    }

    @Test func environmentsDeclareTheirOwnBindingsAndVars() throws {
        let config = try ConfigFixture.load(Self.fullConfig, as: "wrangler.toml")

        let staging = try #require(config.environments["staging"])
        #expect(staging.name == "my-worker-stg")
        #expect(staging.environmentName == "staging")
        #expect(staging.vars == ["API_HOST": "https://staging.example.com"])
        #expect(staging.kvNamespaces == [KVNamespaceBinding(binding: "SESSIONS", id: "staging-sessions")])
        #expect(staging.environments.isEmpty)
        #expect(staging.fileURL == config.fileURL)

        // Nothing is inherited from the top level except the derived Worker name.
        let production = try #require(config.environments["production"])
        #expect(production.name == "my-worker-production")
        #expect(production.vars.isEmpty)
        #expect(production.kvNamespaces.isEmpty)
    }

    @Test func emptyFileIsAnEmptyConfig() throws {
        let config = try ConfigFixture.load("", as: "wrangler.toml")
        #expect(config.name == nil)
        #expect(config.vars.isEmpty)
        #expect(config.kvNamespaces.isEmpty)
        #expect(config.environments.isEmpty)
    }

    @Test func environmentWithoutTopLevelNameHasNoName() throws {
        let config = try ConfigFixture.load(
            """
            [env.dev]
            [[env.dev.kv_namespaces]]
            binding = "KV"
            """,
            as: "wrangler.toml"
        )
        let dev = try #require(config.environments["dev"])
        #expect(dev.name == nil)
        #expect(dev.kvNamespaces == [KVNamespaceBinding(binding: "KV")])
    }

    @Test func tomlSyntaxErrorCarriesFileLineAndColumn() throws {
        let error = try #require(
            try ConfigFixture.loadError(
                """
                name = "ok"

                [[kv_namespaces]]
                binding = = "X"
                """,
                as: "wrangler.toml"
            )
        )
        #expect(error.code == .syntax)
        #expect(error.line == 4)
        #expect(error.column == 11)
        #expect(error.keyPath == nil)
        // The message is toml++'s (TOMLKit is pinned to 0.6.0); the position and file name are ours.
        #expect(
            error.description
                == "wrangler.toml: line 4, column 11: Error while parsing value: could not determine value type"
        )
    }

    @Test func duplicateTOMLKeyIsASyntaxError() throws {
        let error = try #require(
            try ConfigFixture.loadError(
                """
                [[kv_namespaces]]
                binding = "A"
                binding = "B"
                """,
                as: "wrangler.toml"
            )
        )
        #expect(error.code == .syntax)
        #expect(
            error.description
                == "wrangler.toml: line 3, column 11: Error while parsing key-value pair: "
                + "cannot redefine existing string 'binding'"
        )
    }

    @Test func nulCharacterIsRejectedWithItsPosition() throws {
        let error = try #require(try ConfigFixture.loadError("name = \"a\"\nid = \"x\u{0}y\"\n", as: "wrangler.toml"))
        #expect(error.code == .syntax)
        #expect(error.description == "wrangler.toml: line 2, column 8: NUL characters are not allowed")
    }
}
