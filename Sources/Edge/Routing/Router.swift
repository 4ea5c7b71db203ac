import HTTPTypes

/// Finds the route for a method and a path among ``RoutePattern``s, telling a path no pattern matches (404) from a
/// method the path does not take (405, with the methods for `Allow`).
///
/// Patterns are tried in the order they were added, so a literal added before a parameter in the same place wins.
/// `Route` is whatever the caller dispatches on: a ``Handler``, or an enum of endpoints.
public struct Router<Route: Sendable>: Sendable {
    private struct Entry: Sendable {
        var pattern: RoutePattern
        var routes: [(method: HTTPRequest.Method, route: Route)]
    }

    private var entries: [Entry] = []

    /// An empty router: every path is not found.
    public init() {}

    /// Routes `method` on `pattern` (see ``RoutePattern``) to `route`; a method added twice keeps the first route.
    public mutating func add(_ method: HTTPRequest.Method, _ pattern: String, _ route: Route) {
        let parsed = RoutePattern(pattern)
        if let index = entries.firstIndex(where: { $0.pattern.segments == parsed.segments }) {
            entries[index].routes.append((method, route))
        } else {
            entries.append(Entry(pattern: parsed, routes: [(method, route)]))
        }
    }

    /// The route for `method` on `path` (without its query, still percent-encoded).
    public func match(_ method: HTTPRequest.Method, path: String) -> RouterMatch<Route> {
        match(method, segments: RoutePattern.segments(ofPath: path))
    }

    /// The route for `method` on a path already split into segments (see ``RoutePattern/segments(ofPath:)``).
    public func match(_ method: HTTPRequest.Method, segments: [Substring]) -> RouterMatch<Route> {
        var allowed: [HTTPRequest.Method] = []
        for entry in entries {
            guard let parameters = entry.pattern.match(segments) else { continue }
            if let found = entry.routes.first(where: { $0.method == method }) {
                return .found(found.route, parameters)
            }
            for (other, _) in entry.routes where !allowed.contains(other) {
                allowed.append(other)
            }
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
    }
}

/// What a ``Router`` found for a request.
public enum RouterMatch<Route: Sendable>: Sendable {
    /// The route, with the parameters its pattern captured.
    case found(Route, RouteParameters)
    /// The path has routes, none for this method; `allowed` lists theirs in the order they were added.
    case methodNotAllowed(allowed: [HTTPRequest.Method])
    /// No pattern matches the path.
    case notFound
}

extension RouterMatch {
    /// The value of an `Allow` header for a 405: `GET, HEAD`; nil unless this is ``methodNotAllowed(allowed:)``.
    public var allowHeader: String? {
        guard case .methodNotAllowed(let allowed) = self else { return nil }
        return allowed.map(\.rawValue).joined(separator: ", ")
    }
}
