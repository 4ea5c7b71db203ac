import Edge
import EdgeConfig
import EdgeKV
import Foundation

extension Env {
    /// The env a wrangler config describes: its `kv_namespaces` as KV bindings on `namespaces` (namespace id
    /// `preview_id ?? id ?? binding`, as `wrangler dev` uses locally) and its `vars` as string vars; `overrides`
    /// (e.g. `--var K=V`) replace vars of the same name.
    ///
    /// Pass the config of the environment to use (`config.environment(name)`): environments do not inherit
    /// `kv_namespaces` or `vars`.
    /// - Throws: ``EnvError`` naming the file and key when a var and a KV binding share a name.
    public init(
        config: WranglerConfig, namespaces: any KVNamespaceManager, overrides: [String: String] = [:]
    ) throws {
        var bindings: [String: Binding] = [:]
        for entry in config.kvNamespaces {
            bindings[entry.binding] = .kv(namespaces.namespace(id: entry.devNamespaceId))
        }
        let file = config.fileURL?.lastPathComponent ?? "the config"
        let section = config.environmentName.map { "env.\($0)." } ?? ""
        for (name, value) in config.vars {
            if bindings[name] != nil {
                throw EnvError(
                    "\(file): \(section)vars.\(name): \"\(name)\" is also a kv_namespaces binding; "
                        + "a binding name must be unique")
            }
            bindings[name] = .text(value)
        }
        for (name, value) in overrides {
            if case .kv = bindings[name] {
                throw EnvError("--var \(name): \"\(name)\" is a KV namespace binding in \(file); pick another name")
            }
            bindings[name] = .text(value)
        }
        self.init(bindings: bindings)
    }
}
