/// Why Miniflare's state could not be read or written.
public struct MiniflareStateError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, with the file it concerns.
    public let message: String

    /// Creates an error.
    public init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { message }
}
