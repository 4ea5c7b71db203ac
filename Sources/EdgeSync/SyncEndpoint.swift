/// One side of `edgekv sync`: `local:NS`, `remote:NS` or `wrangler:DIR:NS`.
public enum SyncEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// EdgeKV's local state; NS is a binding or a namespace id.
    case local(String)
    /// Workers KV through the REST API; NS is a binding (resolved through the config's `id`) or a namespace id.
    case remote(String)
    /// The persistence of `wrangler dev` / Miniflare: DIR is the `.wrangler/state` folder, NS a binding or an id.
    case wrangler(directory: String, namespace: String)

    /// Parses `local:NS`, `remote:NS` or `wrangler:DIR:NS` (DIR may itself contain colons; NS is after the last).
    /// - Throws: ``SyncEndpointError`` naming the accepted forms.
    public init(parsing text: String) throws {
        guard let colon = text.firstIndex(of: ":") else { throw SyncEndpointError(text) }
        let kind = text[..<colon]
        let rest = String(text[text.index(after: colon)...])
        switch kind {
        case "local" where !rest.isEmpty: self = .local(rest)
        case "remote" where !rest.isEmpty: self = .remote(rest)
        case "wrangler":
            guard let last = rest.lastIndex(of: ":") else { throw SyncEndpointError(text) }
            let directory = String(rest[..<last])
            let namespace = String(rest[rest.index(after: last)...])
            guard !directory.isEmpty, !namespace.isEmpty else { throw SyncEndpointError(text) }
            self = .wrangler(directory: directory, namespace: namespace)
        default: throw SyncEndpointError(text)
        }
    }

    /// The namespace part (a binding or an id).
    public var namespace: String {
        switch self {
        case .local(let ns), .remote(let ns), .wrangler(_, let ns): ns
        }
    }

    /// The endpoint as written on the command line.
    public var description: String {
        switch self {
        case .local(let ns): "local:\(ns)"
        case .remote(let ns): "remote:\(ns)"
        case .wrangler(let dir, let ns): "wrangler:\(dir):\(ns)"
        }
    }
}

/// An endpoint that is not one of the accepted forms.
public struct SyncEndpointError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was given.
    public let text: String

    init(_ text: String) { self.text = text }

    /// The message, with the accepted forms.
    public var description: String {
        "\"\(text)\" is not a sync endpoint; use local:NS, remote:NS or wrangler:DIR:NS "
            + "(NS a binding or namespace id, DIR the .wrangler/state folder)"
    }
}
