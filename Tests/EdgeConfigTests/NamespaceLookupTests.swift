import EdgeConfig
import Foundation
import Testing

@Suite("Environments and namespace ids")
struct NamespaceLookupTests {
    static let config = """
        name = "app"

        [[kv_namespaces]]
        binding = "BOTH"
        id = "prod-id"
        preview_id = "preview-id"

        [[kv_namespaces]]
        binding = "ID_ONLY"
        id = "only-id"

        [[kv_namespaces]]
        binding = "PREVIEW_ONLY"
        preview_id = "only-preview"

        [[kv_namespaces]]
        binding = "BARE"

        [env.staging]
        [[env.staging.kv_namespaces]]
        binding = "BOTH"
        id = "staging-id"

        [env.production]
        """

    @Test func nilEnvironmentIsTheTopLevel() throws {
        let config = try ConfigFixture.load(Self.config, as: "wrangler.toml")
        #expect(try config.environment(nil) == config)
    }

    @Test func namedEnvironmentIsReturned() throws {
        let config = try ConfigFixture.load(Self.config, as: "wrangler.toml")
        let staging = try config.environment("staging")
        #expect(staging.environmentName == "staging")
        #expect(staging.name == "app-staging")
        #expect(staging.kvNamespaces == [KVNamespaceBinding(binding: "BOTH", id: "staging-id")])
    }

    @Test func unknownEnvironmentListsTheKnownOnes() throws {
        let config = try ConfigFixture.load(Self.config, as: "wrangler.toml")
        let error = #expect(throws: ConfigError.self) { try config.environment("prod") }
        #expect(error?.code == .unknownEnvironment)
        #expect(error?.keyPath == "env.prod")
        #expect(
            error?.description
                == "wrangler.toml: env.prod: environment is not defined (known environments: production, staging)"
        )
    }

    @Test func unknownEnvironmentInAFileWithoutEnvironments() throws {
        let config = try ConfigFixture.load("name = \"app\"\n", as: "wrangler.toml")
        let error = #expect(throws: ConfigError.self) { try config.environment("staging") }
        #expect(
            error?.description
                == "wrangler.toml: env.staging: environment is not defined (the file defines no environments)"
        )
    }

    @Test func findsBindingsByName() throws {
        let config = try ConfigFixture.load(Self.config, as: "wrangler.toml")
        #expect(config.namespaceBinding(named: "ID_ONLY") == KVNamespaceBinding(binding: "ID_ONLY", id: "only-id"))
        #expect(config.namespaceBinding(named: "id_only") == nil)
        #expect(try config.environment("staging").namespaceBinding(named: "ID_ONLY") == nil)
    }

    @Test(arguments: [
        ("BOTH", false, "prod-id"),
        ("BOTH", true, "preview-id"),
        ("ID_ONLY", false, "only-id"),
        ("PREVIEW_ONLY", true, "only-preview"),
    ])
    func localNamespaceIdPicksIdOrPreviewId(binding: String, preview: Bool, expected: String) throws {
        let config = try ConfigFixture.load(Self.config, as: "wrangler.toml")
        #expect(try config.localNamespaceId(forBinding: binding, preview: preview) == expected)
    }

    @Test(arguments: [
        (
            "ID_ONLY", true,
            #"wrangler.toml: kv_namespaces[1]: binding "ID_ONLY" has no "preview_id"; "#
                + #"add "preview_id" with the preview namespace id to this entry"#
        ),
        (
            "PREVIEW_ONLY", false,
            #"wrangler.toml: kv_namespaces[2]: binding "PREVIEW_ONLY" has no "id"; "#
                + #"add "id" with the namespace id to this entry"#
        ),
        (
            "BARE", false,
            #"wrangler.toml: kv_namespaces[3]: binding "BARE" has no "id"; "#
                + #"add "id" with the namespace id to this entry"#
        ),
    ])
    func localNamespaceIdSaysWhichFieldToAdd(binding: String, preview: Bool, message: String) throws {
        let config = try ConfigFixture.load(Self.config, as: "wrangler.toml")
        let error = #expect(throws: ConfigError.self) {
            try config.localNamespaceId(forBinding: binding, preview: preview)
        }
        #expect(error?.code == .missingNamespaceId)
        #expect(error?.description == message)
    }

    @Test func missingPreviewIdInAnEnvironmentNamesTheEnvironmentKeyPath() throws {
        let staging = try ConfigFixture.load(Self.config, as: "wrangler.toml").environment("staging")
        let error = #expect(throws: ConfigError.self) {
            try staging.localNamespaceId(forBinding: "BOTH", preview: true)
        }
        #expect(error?.keyPath == "env.staging.kv_namespaces[0]")
        #expect(
            error?.description
                == #"wrangler.toml: env.staging.kv_namespaces[0]: binding "BOTH" has no "preview_id"; "#
                + #"add "preview_id" with the preview namespace id to this entry"#
        )
    }

    @Test func unknownBindingListsTheKnownOnes() throws {
        let config = try ConfigFixture.load(Self.config, as: "wrangler.toml")
        let error = #expect(throws: ConfigError.self) {
            try config.localNamespaceId(forBinding: "SESSIONS", preview: false)
        }
        #expect(error?.code == .unknownBinding)
        #expect(
            error?.description
                == #"wrangler.toml: kv_namespaces: no entry has binding "SESSIONS" "#
                + "(known bindings: BOTH, ID_ONLY, PREVIEW_ONLY, BARE)"
        )

        let production = try config.environment("production")
        let empty = #expect(throws: ConfigError.self) {
            try production.localNamespaceId(forBinding: "BOTH", preview: false)
        }
        #expect(
            empty?.description
                == #"wrangler.toml: env.production.kv_namespaces: no entry has binding "BOTH" "#
                + "(no kv_namespaces are configured)"
        )
    }

    @Test(arguments: [
        (KVNamespaceBinding(binding: "KV", id: "id", previewId: "preview"), "preview"),
        (KVNamespaceBinding(binding: "KV", id: "id"), "id"),
        (KVNamespaceBinding(binding: "KV", previewId: "preview"), "preview"),
        (KVNamespaceBinding(binding: "KV"), "KV"),
    ])
    func devNamespaceIdFallsBackFromPreviewIdToIdToBinding(binding: KVNamespaceBinding, expected: String) {
        #expect(binding.devNamespaceId == expected)
    }

    @Test func devNamespaceIdOfLoadedBindings() throws {
        let config = try ConfigFixture.load(Self.config, as: "wrangler.toml")
        #expect(config.kvNamespaces.map(\.devNamespaceId) == ["preview-id", "only-id", "only-preview", "BARE"])
    }

    @Test func inMemoryConfigErrorsHaveNoFileName() {
        let config = WranglerConfig(kvNamespaces: [KVNamespaceBinding(binding: "KV")])
        let error = #expect(throws: ConfigError.self) { try config.localNamespaceId(forBinding: "KV", preview: false) }
        #expect(error?.fileURL == nil)
        #expect(
            error?.description
                == #"kv_namespaces[0]: binding "KV" has no "id"; add "id" with the namespace id to this entry"#
        )
    }
}
