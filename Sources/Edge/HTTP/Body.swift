/// A request or response body: bytes in memory, or a stream of chunks read once.
public struct Body: Sendable {
    enum Storage: Sendable {
        case bytes([UInt8])
        case stream(ByteStream)
    }

    let storage: Storage

    /// No body.
    public static let empty = Body(storage: .bytes([]))

    /// A body held in memory.
    public static func bytes(_ bytes: [UInt8]) -> Body { Body(storage: .bytes(bytes)) }

    /// A UTF-8 text body.
    public static func text(_ text: String) -> Body { Body(storage: .bytes(Array(text.utf8))) }

    /// A body streamed chunk by chunk; it can be read once.
    public static func stream<S: AsyncSequence & Sendable>(_ chunks: S) -> Body where S.Element == [UInt8] {
        Body(storage: .stream(ByteStream(chunks)))
    }

    /// The bytes when the body is held in memory, else nil.
    public var bufferedBytes: [UInt8]? {
        if case .bytes(let b) = storage { return b }
        return nil
    }

    /// The body as a stream of chunks (a buffered body is one chunk).
    public var chunks: ByteStream {
        switch storage {
        case .stream(let s): return s
        case .bytes(let b): return ByteStream(bytes: b)
        }
    }

    /// Reads the whole body.
    /// - Throws: ``BodyTooLargeError`` past `limit` bytes, or the stream's own error.
    public func collect(upTo limit: Int = .max) async throws -> [UInt8] {
        switch storage {
        case .bytes(let b):
            if b.count > limit { throw BodyTooLargeError(limit: limit) }
            return b
        case .stream(let s):
            var out: [UInt8] = []
            for try await chunk in s {
                if out.count + chunk.count > limit { throw BodyTooLargeError(limit: limit) }
                out += chunk
            }
            return out
        }
    }
}

/// A body was longer than the reader allowed.
public struct BodyTooLargeError: Error, Sendable, CustomStringConvertible {
    /// The limit in bytes.
    public let limit: Int
    /// `the body is larger than N bytes`.
    public var description: String { "the body is larger than \(limit) bytes" }
}

/// A type-erased, single-pass sequence of byte chunks, read on demand (so a slow reader slows the sender).
public struct ByteStream: AsyncSequence, Sendable {
    /// Chunks of bytes.
    public typealias Element = [UInt8]

    private let make: @Sendable () -> AsyncIterator

    /// Wraps any sendable sequence of chunks.
    public init<S: AsyncSequence & Sendable>(_ chunks: S) where S.Element == [UInt8] {
        make = {
            var iterator = chunks.makeAsyncIterator()
            return AsyncIterator { try await iterator.next() }
        }
    }

    /// One chunk (none when empty).
    public init(bytes: [UInt8]) {
        make = {
            var pending = bytes.isEmpty ? nil : bytes
            return AsyncIterator {
                defer { pending = nil }
                return pending
            }
        }
    }

    /// Makes the iterator.
    public func makeAsyncIterator() -> AsyncIterator { make() }

    /// Iterates the chunks.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let nextChunk: () async throws -> [UInt8]?

        /// The next chunk, or nil at the end.
        public mutating func next() async throws -> [UInt8]? { try await nextChunk() }
    }
}
