/// A path pattern such as `/accounts/:account/items`: literal segments match themselves, a `:name` segment matches
/// any one segment and captures it.
///
/// Paths are compared segment by segment as received, still percent-encoded, so each API decodes its parameters with
/// its own rules (and its own error texts). A parameter matches an empty segment too (`/items/` has an empty `:id`
/// after `items`): what an empty value means is the handler's decision.
public struct RoutePattern: Sendable, Hashable, CustomStringConvertible {
    enum Segment: Sendable, Hashable {
        case literal(String)
        case parameter(String)
    }

    let segments: [Segment]

    /// The pattern's text, as given.
    public let description: String

    /// Parses `pattern`: segments after the leading `/`, each a literal or `:name`.
    public init(_ pattern: String) {
        description = pattern
        segments = Self.segments(ofPath: pattern).map { segment in
            segment.first == ":" ? .parameter(String(segment.dropFirst())) : .literal(String(segment))
        }
    }

    /// The segments of a path: what follows each `/`, so `/` is one empty segment and `/a/` is `a` and an empty one.
    public static func segments(ofPath path: String) -> [Substring] {
        Array(path.split(separator: "/", omittingEmptySubsequences: false).dropFirst())
    }

    /// The captured parameters when `segments` is exactly this pattern, else nil.
    public func match(_ segments: [Substring]) -> RouteParameters? {
        guard segments.count == self.segments.count else { return nil }
        return matchPrefix(segments)
    }

    /// The captured parameters when `segments` begins with this pattern (or is exactly it), else nil.
    public func matchPrefix(_ segments: [Substring]) -> RouteParameters? {
        guard segments.count >= self.segments.count else { return nil }
        var parameters = RouteParameters()
        for (expected, segment) in zip(self.segments, segments) {
            switch expected {
            case .literal(let literal):
                guard segment == literal else { return nil }
            case .parameter(let name):
                parameters.values.append((name, String(segment)))
            }
        }
        return parameters
    }
}

/// The segments a ``RoutePattern`` captured, by parameter name, still percent-encoded.
public struct RouteParameters: Sendable {
    var values: [(name: String, value: String)] = []

    /// Nothing captured.
    public init() {}

    /// The raw segment captured as `:name`, or nil when the pattern has no such parameter.
    public subscript(_ name: String) -> String? {
        values.first { $0.name == name }?.value
    }
}
