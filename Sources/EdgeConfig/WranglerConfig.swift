import Foundation

/// The parts of a wrangler configuration file (`wrangler.toml`, `wrangler.json` or `wrangler.jsonc`)
/// that EdgeKV uses: the Worker name, `vars`, `kv_namespaces` and the `env` sections.
///
/// Load one with ``load(from:)`` or ``discover(in:)``. Keys EdgeKV does not use are ignored.
/// As in wrangler, environments do not inherit `vars` or `kv_namespaces`: each `[env.<name>]` section
/// declares its own.
public struct WranglerConfig: Sendable, Equatable {
    /// The Worker name (`name`), if set.
    ///
    /// In an environment it defaults to `<top-level name>-<environment name>`, as wrangler's
    /// legacy environments do.
    public let name: String?
    /// The `vars` table as text: strings as they are, numbers and booleans as their literal text
    /// (`8080`, `1.5`, `true`), TOML dates and times in TOML form, JSON `null` as `null`, arrays and
    /// tables as compact JSON with sorted keys (`{"a":1,"b":[true]}`).
    public let vars: [String: String]
    /// The `kv_namespaces` entries, in file order, validated and with unique binding names.
    public let kvNamespaces: [KVNamespaceBinding]
    /// The named environments from `[env.<name>]` (TOML) or `"env": { "<name>": {...} }` (JSON);
    /// always empty inside an environment.
    public let environments: [String: WranglerConfig]
    /// The environment this configuration is, or nil for the top level of the file.
    public let environmentName: String?
    /// The file this configuration was loaded from, or nil when built in memory.
    public let fileURL: URL?

    /// Creates a configuration in memory, for example in tests; no validation is done.
    public init(
        name: String? = nil,
        vars: [String: String] = [:],
        kvNamespaces: [KVNamespaceBinding] = [],
        environments: [String: WranglerConfig] = [:],
        environmentName: String? = nil,
        fileURL: URL? = nil
    ) {
        self.name = name
        self.vars = vars
        self.kvNamespaces = kvNamespaces
        self.environments = environments
        self.environmentName = environmentName
        self.fileURL = fileURL
    }

    /// The configuration to use for `--env <name>`: `self` for nil, otherwise the named environment.
    ///
    /// - Throws: ``ConfigError`` with code ``ConfigError/Code/unknownEnvironment`` listing the
    ///   environments the file defines when `name` is not one of them.
    public func environment(_ name: String?) throws(ConfigError) -> WranglerConfig {
        guard let name else { return self }
        if let environment = environments[name] {
            return environment
        }
        let known =
            environments.isEmpty
            ? "the file defines no environments"
            : "known environments: " + environments.keys.sorted().joined(separator: ", ")
        throw ConfigError(
            code: .unknownEnvironment,
            fileURL: fileURL,
            keyPath: ConfigKeyPath.root.appending("env").appending(name).description,
            message: "environment is not defined (\(known))"
        )
    }

    /// The `kv_namespaces` entry whose `binding` is `name`, if any.
    public func namespaceBinding(named name: String) -> KVNamespaceBinding? {
        kvNamespaces.first { $0.binding == name }
    }

    /// The namespace id to address for `binding`: `preview_id` when `preview` is true, `id` otherwise.
    ///
    /// - Throws: ``ConfigError`` with code ``ConfigError/Code/unknownBinding`` when no entry has this
    ///   binding, or ``ConfigError/Code/missingNamespaceId`` naming the field to add when the entry
    ///   lacks the one asked for.
    public func localNamespaceId(forBinding binding: String, preview: Bool) throws(ConfigError) -> String {
        let namespaces = keyPathPrefix.appending("kv_namespaces")
        guard let index = kvNamespaces.firstIndex(where: { $0.binding == binding }) else {
            let known =
                kvNamespaces.isEmpty
                ? "no kv_namespaces are configured"
                : "known bindings: " + kvNamespaces.map(\.binding).joined(separator: ", ")
            throw ConfigError(
                code: .unknownBinding,
                fileURL: fileURL,
                keyPath: namespaces.description,
                message: "no entry has binding \"\(binding)\" (\(known))"
            )
        }
        let entry = kvNamespaces[index]
        if let id = preview ? entry.previewId : entry.id {
            return id
        }
        let field = preview ? "preview_id" : "id"
        let purpose = preview ? "the preview namespace id" : "the namespace id"
        throw ConfigError(
            code: .missingNamespaceId,
            fileURL: fileURL,
            keyPath: namespaces.appending(index: index).description,
            message: "binding \"\(binding)\" has no \"\(field)\"; add \"\(field)\" with \(purpose) to this entry"
        )
    }

    /// `env.<name>` inside an environment, the root otherwise.
    var keyPathPrefix: ConfigKeyPath {
        guard let environmentName else { return .root }
        return ConfigKeyPath.root.appending("env").appending(environmentName)
    }
}
