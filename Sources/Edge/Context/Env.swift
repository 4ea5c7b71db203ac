import EdgeKV

/// The bindings a request's handler can reach: KV namespaces and string vars, by name — the Swift form of a
/// Worker's `env`. Passed per request, never global.
public struct Env: Sendable {
    /// One binding.
    public enum Binding: Sendable {
        /// A KV namespace.
        case kv(any KVNamespace)
        /// A string var.
        case text(String)

        var kind: String {
            switch self {
            case .kv: "a KV namespace"
            case .text: "a string var"
            }
        }
    }

    /// Every binding by name.
    public var bindings: [String: Binding]

    /// Creates an env.
    public init(bindings: [String: Binding] = [:]) { self.bindings = bindings }

    /// Creates an env from KV namespaces and vars.
    /// - Throws: ``EnvError`` when a name is used for both a KV namespace and a var.
    public init(kv: [String: any KVNamespace] = [:], vars: [String: String] = [:]) throws {
        var bindings: [String: Binding] = kv.mapValues { .kv($0) }
        for (name, value) in vars {
            if bindings[name] != nil {
                throw EnvError("\"\(name)\" is both a KV namespace binding and a var; rename one of them")
            }
            bindings[name] = .text(value)
        }
        self.bindings = bindings
    }

    /// The KV namespace bound to `name`.
    /// - Throws: ``EnvError`` naming the binding and what is configured, when it is missing or not a namespace.
    public func kv(_ name: String) throws -> any KVNamespace {
        switch bindings[name] {
        case .kv(let namespace): return namespace
        case .text: throw EnvError("the binding \"\(name)\" is a string var, not a KV namespace; \(summary)")
        case nil: throw EnvError("no KV namespace is bound to \"\(name)\"; \(summary)")
        }
    }

    /// The string var `name`, or nil when there is none (like hattip's `ctx.env(name)`).
    public func string(_ name: String) -> String? {
        if case .text(let value) = bindings[name] { return value }
        return nil
    }

    /// The string var `name`.
    /// - Throws: ``EnvError`` naming the var and what is configured.
    public func requireString(_ name: String) throws -> String {
        switch bindings[name] {
        case .text(let value): return value
        case .kv: throw EnvError("the binding \"\(name)\" is a KV namespace, not a string var; \(summary)")
        case nil: throw EnvError("the var \"\(name)\" is not set; \(summary)")
        }
    }

    /// A copy with `vars` set (replacing bindings of the same name).
    public func settingVars(_ vars: [String: String]) -> Env {
        var copy = self
        for (name, value) in vars { copy.bindings[name] = .text(value) }
        return copy
    }

    /// What is configured, for error messages.
    var summary: String {
        let kv = bindings.filter { if case .kv = $0.value { true } else { false } }.keys.sorted()
        let vars = bindings.filter { if case .text = $0.value { true } else { false } }.keys.sorted()
        func list(_ names: [String]) -> String { names.isEmpty ? "none" : names.joined(separator: ", ") }
        return "configured KV namespaces: \(list(kv)); vars: \(list(vars))"
    }
}

/// A binding that is missing or of the wrong type.
public struct EnvError: Error, Sendable, CustomStringConvertible {
    /// What is wrong and what is configured.
    public let description: String

    /// Creates an error.
    public init(_ description: String) { self.description = description }
}

/// Where a request runs: the platform's name and its env.
public struct Platform: Sendable {
    /// The platform's name, e.g. `edgekv` (or `cloudflare-workers` when a handler expects it).
    public var name: String
    /// The bindings.
    public var env: Env

    /// Creates a platform.
    public init(name: String = "edgekv", env: Env) {
        self.name = name
        self.env = env
    }
}
