/// A reply from Redis (RESP2).
public enum RedisReply: Sendable, Hashable {
    /// A bulk string.
    case bulk([UInt8])
    /// A status reply such as `OK`.
    case status(String)
    /// An integer.
    case integer(Int64)
    /// The nil reply (a missing key).
    case null
    /// An array of replies.
    case array([RedisReply])
    /// An error reply such as `ERR wrong number of arguments`.
    case error(String)
}

/// A failure talking to Redis.
///
/// Messages name the server's address, never its password.
public struct RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What failed.
    public enum Kind: Sendable, Hashable {
        /// The connection could not be made, or broke and could not be made again.
        case connection
        /// The server answered with an error reply (e.g. a refused password).
        case reply
        /// The server answered with a reply of an unexpected type.
        case protocolViolation
    }

    /// What failed.
    public let kind: Kind
    /// The server address and what went wrong.
    public let message: String

    /// Creates an error.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
