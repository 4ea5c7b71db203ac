extension JSONValue {
    /// Object members ``prettyPrinted(indent:)`` writes first, in this order (the rest follow sorted), so that
    /// output reads like wrangler's.
    public static let leadingMembers = [
        "name", "id", "title", "value", "base64", "expiration", "metadata", "keys", "list_complete",
    ]

    /// The value as JSON indented by two spaces a level, its first line unindented and later ones starting with
    /// `indent`; members in the order of ``leadingMembers``; empty arrays and objects as `[]` and `{}`. No newline
    /// at the end.
    public func prettyPrinted(indent: String = "") -> String {
        var out = ""
        prettyPrint(indent: indent, into: &out)
        return out
    }

    private func prettyPrint(indent: String, into out: inout String) {
        let inner = indent + "  "
        switch self {
        case .array(let items) where !items.isEmpty:
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += inner
                item.prettyPrint(indent: inner, into: &out)
                out += i == items.count - 1 ? "\n" : ",\n"
            }
            out += indent + "]"
        case .object(let members) where !members.isEmpty:
            let leading = Self.leadingMembers.filter { members[$0] != nil }
            let keys = leading + members.keys.filter { !Self.leadingMembers.contains($0) }.sorted()
            out += "{\n"
            for (i, key) in keys.enumerated() {
                out += inner + JSONValue.string(key).serialized + ": "
                members[key]!.prettyPrint(indent: inner, into: &out)
                out += i == keys.count - 1 ? "\n" : ",\n"
            }
            out += indent + "}"
        default:
            out += serialized
        }
    }
}
