import Foundation

/// Turns a parsed document into a ``WranglerConfig``, validating the keys EdgeKV uses and ignoring the rest.
struct WranglerConfigDecoder {
    let fileURL: URL
    let format: ConfigFormat

    func decode(_ document: ConfigValue) throws(ConfigError) -> WranglerConfig {
        guard case .table(let root) = document else {
            throw ConfigError(
                code: .invalidType,
                fileURL: fileURL,
                message: "expected \(format.tableName) at the top level, got \(format.typeName(of: document))"
            )
        }
        let name = try optionalString(root["name"], at: .root.appending("name"))
        let topLevel = try decodeSection(root, at: .root, name: name, environmentName: nil)
        var environments: [String: WranglerConfig] = [:]
        if let env = root["env"] {
            let envPath = ConfigKeyPath.root.appending("env")
            for (environmentName, value) in try table(env, at: envPath).sorted(by: { $0.key < $1.key }) {
                let path = envPath.appending(environmentName)
                let section = try table(value, at: path)
                let environmentOwnName = try optionalString(section["name"], at: path.appending("name"))
                environments[environmentName] = try decodeSection(
                    section,
                    at: path,
                    // Wrangler's legacy environments name the Worker `<name>-<env>` unless the section says otherwise.
                    name: environmentOwnName ?? name.map { "\($0)-\(environmentName)" },
                    environmentName: environmentName
                )
            }
        }
        return WranglerConfig(
            name: topLevel.name,
            vars: topLevel.vars,
            kvNamespaces: topLevel.kvNamespaces,
            environments: environments,
            environmentName: nil,
            fileURL: fileURL
        )
    }

    /// The keys that are not inherited by environments, read from the top level or one `env` section.
    private func decodeSection(
        _ section: [String: ConfigValue],
        at path: ConfigKeyPath,
        name: String?,
        environmentName: String?
    ) throws(ConfigError) -> WranglerConfig {
        var vars: [String: String] = [:]
        if let value = section["vars"] {
            for (key, value) in try table(value, at: path.appending("vars")) {
                vars[key] = value.varText
            }
        }
        var namespaces: [KVNamespaceBinding] = []
        if let value = section["kv_namespaces"] {
            let listPath = path.appending("kv_namespaces")
            guard case .array(let entries) = value else {
                throw typeMismatch(value, expected: "an array", at: listPath)
            }
            var indexByBinding: [String: Int] = [:]
            for (index, entry) in entries.enumerated() {
                let entryPath = listPath.appending(index: index)
                let namespace = try kvNamespace(entry, at: entryPath)
                if let first = indexByBinding[namespace.binding] {
                    throw ConfigError(
                        code: .duplicateBinding,
                        fileURL: fileURL,
                        keyPath: entryPath.appending("binding").description,
                        message: "binding \"\(namespace.binding)\" is already used by "
                            + listPath.appending(index: first).description
                    )
                }
                indexByBinding[namespace.binding] = index
                namespaces.append(namespace)
            }
        }
        return WranglerConfig(
            name: name,
            vars: vars,
            kvNamespaces: namespaces,
            environments: [:],
            environmentName: environmentName,
            fileURL: fileURL
        )
    }

    private func kvNamespace(_ value: ConfigValue, at path: ConfigKeyPath) throws(ConfigError) -> KVNamespaceBinding {
        let entry = try table(value, at: path)
        guard let bindingValue = entry["binding"] else {
            throw ConfigError(
                code: .missingValue,
                fileURL: fileURL,
                keyPath: path.description,
                message: "\"binding\" is required"
            )
        }
        let binding = try nonEmptyString(bindingValue, at: path.appending("binding"))
        let id = try entry["id"].map { value throws(ConfigError) in
            try nonEmptyString(value, at: path.appending("id"))
        }
        let previewId = try entry["preview_id"].map { value throws(ConfigError) in
            try nonEmptyString(value, at: path.appending("preview_id"))
        }
        var remote: Bool?
        if let value = entry["remote"] {
            guard case .bool(let flag) = value else {
                throw typeMismatch(value, expected: "a boolean", at: path.appending("remote"))
            }
            remote = flag
        }
        return KVNamespaceBinding(binding: binding, id: id, previewId: previewId, remote: remote)
    }

    // MARK: - Typed accessors

    private func table(_ value: ConfigValue, at path: ConfigKeyPath) throws(ConfigError) -> [String: ConfigValue] {
        guard case .table(let table) = value else {
            throw typeMismatch(value, expected: format.tableName, at: path)
        }
        return table
    }

    private func optionalString(_ value: ConfigValue?, at path: ConfigKeyPath) throws(ConfigError) -> String? {
        guard let value else { return nil }
        guard case .string(let string) = value else {
            throw typeMismatch(value, expected: "a string", at: path)
        }
        return string
    }

    private func nonEmptyString(_ value: ConfigValue, at path: ConfigKeyPath) throws(ConfigError) -> String {
        guard case .string(let string) = value else {
            throw typeMismatch(value, expected: "a string", at: path)
        }
        guard !string.isEmpty else {
            throw ConfigError(
                code: .emptyValue,
                fileURL: fileURL,
                keyPath: path.description,
                message: "must not be empty"
            )
        }
        return string
    }

    private func typeMismatch(_ value: ConfigValue, expected: String, at path: ConfigKeyPath) -> ConfigError {
        ConfigError(
            code: .invalidType,
            fileURL: fileURL,
            keyPath: path.description,
            message: "expected \(expected), got \(format.typeName(of: value))"
        )
    }
}
