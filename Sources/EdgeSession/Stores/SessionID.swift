/// Session ids of the external stores: 32 bytes (256 bits) from the system's CSPRNG, as 43 characters of
/// base64url.
public enum SessionID {
    /// The length of an id in characters.
    public static let length = 43

    /// A new random id.
    public static func generate() -> String {
        Base64URL.encode(secureRandomBytes(32))
    }

    /// True when `id` has the shape of a generated id. Stores check this before touching their backend, so a
    /// garbage cookie costs no lookup and can never reach a backend as a malformed key.
    public static func isWellFormed(_ id: String) -> Bool {
        id.utf8.count == length && Base64URL.decode(id)?.count == 32 && !id.contains("+") && !id.contains("/")
    }
}
