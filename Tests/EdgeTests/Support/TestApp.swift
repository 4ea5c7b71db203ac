import Edge
import Foundation
import HTTPTypes
import Synchronization

/// A small app routing by method and path, written once against `Edge` and run both in-process and over HTTP.
enum TestApp {
    struct Item: Codable, Equatable {
        var name: String
        var count: Int
    }

    struct Receipt: Codable, Equatable {
        var name: String
        var count: Int
        var received: Bool
    }

    struct QueryEcho: Codable, Equatable {
        var query: String?
        var items: [[String]]
    }

    /// `id` for a path `/items/<id>` (one non-empty segment), else nil.
    static func itemID(_ path: String) -> String? {
        guard path.hasPrefix("/items/") else { return nil }
        let id = path.dropFirst("/items/".count)
        return id.isEmpty || id.contains("/") ? nil : String(id)
    }

    static let handler: Handler = { request, context in
        let item = itemID(request.path)
        switch (request.method, request.path) {
        case (.get, "/"):
            return .text("home")
        case (.get, "/hello"):
            return .text("hello, world")
        case (_, "/hello"):
            throw EdgeError(.methodNotAllowed, "use GET", headers: [.allow: "GET"])
        case (.get, _) where item != nil:
            return try .json(Item(name: item!, count: 1))
        case (.put, _) where item != nil:
            let body = try await request.json(Item.self)
            return try .json(Item(name: item!, count: body.count))
        case (.patch, _) where item != nil:
            return .text("patched \(item!)")
        case (.delete, _) where item != nil:
            return .empty()
        case (.post, "/json"):
            let body = try await request.json(Item.self)
            return try .json(Receipt(name: body.name, count: body.count + 1, received: true), status: .created)
        case (.get, "/query"):
            return try .json(QueryEcho(query: request.query, items: request.queryItems.map { [$0.name, $0.value] }))
        case (.get, "/headers"):
            // Echoes chosen request headers back, and sends a repeated header.
            var headers = HTTPFields()
            headers[HTTPField.Name("X-Echo-Trace")!] = request.headers[HTTPField.Name("X-Trace")!] ?? "none"
            headers[HTTPField.Name("X-Echo-Accept")!] = request.headers[values: .accept].joined(separator: " | ")
            headers.append(HTTPField(name: HTTPField.Name("X-Multi")!, value: "one"))
            headers.append(HTTPField(name: HTTPField.Name("X-Multi")!, value: "two"))
            return .text("headers", headers: headers)
        case (.get, "/ip"):
            return .text("\(context.platform.name) \(context.clientIP)")
        case (.get, "/cookies"):
            return try .json(context.cookies)
        case (.get, "/fail"):
            throw SecretError()
        default:
            throw EdgeError(.notFound, "not found")
        }
    }
}

/// An error whose text must never reach a client.
struct SecretError: Error, CustomStringConvertible {
    var description: String { "database password is hunter2" }
}

/// A list of events shared between a test and the handlers it runs.
final class EventLog: Sendable {
    private let events = Mutex<[String]>([])

    func append(_ event: String) { events.withLock { $0.append(event) } }

    var all: [String] { events.withLock { $0 } }
}

/// A one-shot signal: `wait()` returns once `open()` has been called (or at once, if it already was).
final class Gate: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() { (stream, continuation) = AsyncStream<Void>.makeStream() }

    func open() { continuation.finish() }

    func wait() async {
        for await _ in stream {}
    }
}

/// Deterministic pseudo-random bytes (xorshift), so a large body can be checked byte for byte.
func pseudoRandomBytes(count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
    var state = seed
    var bytes = [UInt8](repeating: 0, count: count)
    bytes.withUnsafeMutableBufferPointer { buffer in
        var i = 0
        while i < count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            var word = state
            for _ in 0..<8 where i < count {
                buffer[i] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                i += 1
            }
        }
    }
    return bytes
}
