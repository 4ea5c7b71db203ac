import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One header line of a response, as it came off the wire (name case kept, duplicates kept, in order).
public struct HTTPTestHeader: Sendable, Hashable, CustomStringConvertible {
    /// The field name as received.
    public let name: String
    /// The field value, without the surrounding whitespace.
    public let value: String

    /// Creates a header line.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// `name: value`.
    public var description: String { "\(name): \(value)" }
}

/// A response read by ``HTTPTestClient``: status, every header line in order, and the decoded body
/// (chunked transfer coding removed).
public struct HTTPTestResponse: Sendable {
    /// The status code.
    public let status: Int
    /// The reason phrase.
    public let reason: String
    /// The header lines in the order received.
    public let headers: [HTTPTestHeader]
    /// The body's bytes.
    public let body: [UInt8]

    /// Creates a response (tests that run handlers in-process build these too, to compare both ways alike).
    public init(status: Int, reason: String = "", headers: [HTTPTestHeader], body: [UInt8]) {
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
    }

    /// The first value of a header, compared case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// Every value of a header, in order, compared case-insensitively.
    public func headers(_ name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The body decoded from JSON.
    /// - Throws: the decoder's error.
    public func json<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: Data(body))
    }
}

/// A request the test client could not complete.
public struct HTTPTestClientError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public let description: String

    init(_ description: String) { self.description = description }
}

/// A small HTTP/1.1 client on a blocking POSIX socket, for tests that need the bytes on the wire: exact header
/// lines (every `Set-Cookie`, in order), bodies of any size streamed both ways, and malformed requests no
/// well-behaved client would send.
///
/// Each request opens its own connection and sends `Connection: close`. The socket calls block, so they run on
/// threads of their own, never on Swift's cooperative pool: a server in the same process keeps its threads.
/// The request is written on one thread while the response is read on another, so a server that echoes a large
/// body as it reads it never deadlocks against the client; once the response is complete the client stops sending,
/// as RFC 9112 asks of a client that gets an early answer. Every read and write gives up after ``timeout``.
public struct HTTPTestClient: Sendable {
    /// The server's host (a name or a numeric address).
    public let host: String
    /// The server's port.
    public let port: Int
    /// How long a single read or write may block before the request fails.
    public var timeout: Duration

    /// Creates a client for `host:port`.
    public init(host: String = "127.0.0.1", port: Int, timeout: Duration = .seconds(30)) {
        self.host = host
        self.port = port
        self.timeout = timeout
    }

    /// Creates a client for a base URL such as `http://127.0.0.1:8787`.
    /// - Throws: ``HTTPTestClientError`` when the URL has no host or port.
    public init(baseURL: String, timeout: Duration = .seconds(30)) throws {
        guard let url = URL(string: baseURL), let host = url.host, let port = url.port else {
            throw HTTPTestClientError("not an http://host:port URL: \(baseURL)")
        }
        self.init(host: host, port: port, timeout: timeout)
    }

    /// Sends a request and reads the response.
    /// - Parameters:
    ///   - target: the request target, e.g. `/items?x=1`, sent as is.
    ///   - headers: header lines sent as given, after `Host` and before the framing headers.
    ///   - body: the body; nil sends none (no `Content-Length` either).
    ///   - chunkSize: when set, the body goes out with `Transfer-Encoding: chunked` in chunks of this size;
    ///     otherwise with `Content-Length`.
    /// - Throws: ``HTTPTestClientError`` when the connection fails, times out, or the response is not HTTP/1.1.
    public func request(
        _ method: String = "GET", _ target: String, headers: [(name: String, value: String)] = [],
        body: [UInt8]? = nil, chunkSize: Int? = nil
    ) async throws -> HTTPTestResponse {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        var pieces: [[UInt8]] = []
        if let body {
            if let chunkSize {
                precondition(chunkSize > 0, "chunkSize must be positive")
                head += "Transfer-Encoding: chunked\r\n\r\n"
                pieces.append(Array(head.utf8))
                var start = 0
                while start < body.count {
                    let end = min(start + chunkSize, body.count)
                    pieces.append(Array("\(String(end - start, radix: 16))\r\n".utf8) + body[start..<end] + [13, 10])
                    start = end
                }
                pieces.append(Array("0\r\n\r\n".utf8))
            } else {
                head += "Content-Length: \(body.count)\r\n\r\n"
                pieces.append(Array(head.utf8))
                pieces.append(body)
            }
        } else {
            head += "\r\n"
            pieces.append(Array(head.utf8))
        }
        return try await exchange(pieces, method: method)
    }

    /// Sends `bytes` exactly as given (request line, headers and any body) and reads one response. For requests
    /// that break the rules; include `Connection: close` unless the response is framed.
    /// - Throws: ``HTTPTestClientError`` when the connection fails, times out, or the response is not HTTP/1.1.
    public func send(raw bytes: [UInt8]) async throws -> HTTPTestResponse {
        let method = String(decoding: bytes.prefix { $0 != UInt8(ascii: " ") }, as: UTF8.self)
        return try await exchange([bytes], method: method)
    }

    private func exchange(_ pieces: [[UInt8]], method: String) async throws -> HTTPTestResponse {
        let socket = try await Self.onThread { [host, port, timeout] in
            try Socket.connect(host: host, port: port, timeout: timeout)
        }
        defer { socket.close() }
        async let written: Void = Self.onThread { try socket.write(pieces) }
        let response: HTTPTestResponse
        do {
            response = try await Self.onThread { try socket.readResponse(isHead: method == "HEAD") }
        } catch {
            // The writer may still be blocked on a full socket buffer; closing the read side fails its write.
            socket.shutdown()
            _ = try? await written
            throw error
        }
        // A server may answer before it has read the whole request (a 413, a 400) and then wait for the client to
        // close. Like a browser, stop sending once the response is complete; a write cut short is then fine.
        socket.shutdown()
        _ = try? await written
        return response
    }

    static func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try work() }) }
            thread.start()
        }
    }
}

/// A connected TCP socket with blocking, time-limited reads and writes.
struct Socket: Sendable {
    let fd: Int32

    static func connect(host: String, port: Int, timeout: Duration) throws -> Socket {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw HTTPTestClientError("cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var lastError: Int32 = 0
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            if fd < 0 {
                lastError = errno
                continue
            }
            var tv = timeval(
                tv_sec: Int(timeout.components.seconds),
                tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return Socket(fd: fd) }
            lastError = errno
            Glibc.close(fd)
        }
        throw HTTPTestClientError("cannot connect to \(host):\(port): \(String(cString: strerror(lastError)))")
    }

    func close() { Glibc.close(fd) }

    func shutdown() { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }

    func write(_ pieces: [[UInt8]]) throws {
        for piece in pieces {
            var offset = 0
            while offset < piece.count {
                let n = piece[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw HTTPTestClientError("write failed: \(String(cString: strerror(errno)))")
                }
                offset += n
            }
        }
    }

    /// Reads until one complete response has arrived (skipping `1xx` interim responses) or the server closes.
    func readResponse(isHead: Bool) throws -> HTTPTestResponse {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        var atEOF = false
        while true {
            switch try ResponseParser.parse(buffer, isHead: isHead, atEOF: atEOF) {
            case .complete(let response, let consumed):
                if (100..<200).contains(response.status) && response.status != 101 {
                    buffer.removeFirst(consumed)
                    continue
                }
                return response
            case .needMore:
                if atEOF {
                    throw HTTPTestClientError(
                        buffer.isEmpty
                            ? "the server closed the connection without a response"
                            : "the server closed the connection in the middle of a response (\(buffer.count) bytes)")
                }
            }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    throw HTTPTestClientError("timed out waiting for the response (\(buffer.count) bytes so far)")
                }
                if errno == ECONNRESET && !buffer.isEmpty {
                    atEOF = true
                    continue
                }
                throw HTTPTestClientError("read failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { atEOF = true } else { buffer.append(contentsOf: chunk[0..<n]) }
        }
    }
}

/// Parses an HTTP/1.1 response from bytes received so far.
enum ResponseParser {
    enum Outcome {
        case needMore
        case complete(HTTPTestResponse, consumed: Int)
    }

    static let crlfcrlf: [UInt8] = [13, 10, 13, 10]

    static func parse(_ bytes: [UInt8], isHead: Bool, atEOF: Bool) throws -> Outcome {
        guard let headEnd = find(crlfcrlf, in: bytes, from: 0) else { return .needMore }
        let lines = String(decoding: bytes[0..<headEnd], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            throw HTTPTestClientError("not an HTTP/1.x status line: \(lines[0].debugDescription)")
        }
        let reason = statusParts.count > 2 ? String(statusParts[2]) : ""
        var headers: [HTTPTestHeader] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else {
                throw HTTPTestClientError("malformed header line: \(line.debugDescription)")
            }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
            headers.append(HTTPTestHeader(name: String(line[..<colon]), value: value))
        }
        let bodyStart = headEnd + 4
        func response(_ body: [UInt8]) -> HTTPTestResponse {
            HTTPTestResponse(status: status, reason: reason, headers: headers, body: body)
        }
        func value(_ name: String) -> String? { headers.first { $0.name.lowercased() == name }?.value }

        if isHead || (100..<200).contains(status) || status == 204 || status == 304 {
            return .complete(response([]), consumed: bodyStart)
        }
        if let coding = value("transfer-encoding"), coding.lowercased().contains("chunked") {
            // A chunked message ends with an empty line; skip decoding a large body until that may have arrived.
            guard atEOF || bytes.suffix(4).elementsEqual(crlfcrlf) else { return .needMore }
            return try parseChunked(bytes, from: bodyStart).map { .complete(response($0.body), consumed: $0.end) }
                ?? .needMore
        }
        if let lengthText = value("content-length") {
            guard let length = Int(lengthText), length >= 0 else {
                throw HTTPTestClientError("bad Content-Length: \(lengthText)")
            }
            guard bytes.count - bodyStart >= length else { return .needMore }
            return .complete(response(Array(bytes[bodyStart..<bodyStart + length])), consumed: bodyStart + length)
        }
        // No framing: the body runs to the end of the connection.
        return atEOF ? .complete(response(Array(bytes[bodyStart...])), consumed: bytes.count) : .needMore
    }

    /// The decoded body and where the chunked message ends, or nil when it has not fully arrived.
    static func parseChunked(_ bytes: [UInt8], from start: Int) throws -> (body: [UInt8], end: Int)? {
        var body: [UInt8] = []
        var index = start
        while true {
            guard let lineEnd = find([13, 10], in: bytes, from: index) else { return nil }
            let sizeText =
                String(decoding: bytes[index..<lineEnd], as: UTF8.self)
                .split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard let size = Int(sizeText, radix: 16), size >= 0 else {
                throw HTTPTestClientError("bad chunk size line: \(sizeText.debugDescription)")
            }
            index = lineEnd + 2
            if size == 0 {
                // Trailers, if any, end with an empty line.
                while true {
                    guard let end = find([13, 10], in: bytes, from: index) else { return nil }
                    if end == index { return (body, end + 2) }
                    index = end + 2
                }
            }
            guard bytes.count >= index + size + 2 else { return nil }
            body.append(contentsOf: bytes[index..<index + size])
            index += size + 2
        }
    }

    static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= needle.count, start <= bytes.count - needle.count else { return nil }
        var i = start
        while i <= bytes.count - needle.count {
            if bytes[i] == needle[0] && bytes[i..<i + needle.count].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}

/// One connection held open by the test, for clients that misbehave on purpose: send half a head, stall a body, sit
/// idle. Every call blocks on a thread of its own.
public final class RawHTTPConnection: Sendable {
    let socket: Socket

    /// Connects to `host:port`; a single read or write gives up after `timeout`.
    public init(host: String = "127.0.0.1", port: Int, timeout: Duration = .seconds(30)) async throws {
        socket = try await HTTPTestClient.onThread { try Socket.connect(host: host, port: port, timeout: timeout) }
    }

    deinit { socket.close() }

    /// Sends bytes as given.
    public func send(_ bytes: [UInt8]) async throws {
        let socket = self.socket
        try await HTTPTestClient.onThread { try socket.write([bytes]) }
    }

    /// Sends text as given.
    public func send(_ text: String) async throws { try await send(Array(text.utf8)) }

    /// Reads one response.
    public func readResponse(isHead: Bool = false) async throws -> HTTPTestResponse {
        let socket = self.socket
        return try await HTTPTestClient.onThread { try socket.readResponse(isHead: isHead) }
    }

    /// Reads until the server closes the connection (end of stream or reset) and returns what arrived; throws when
    /// it is still open after the socket's timeout.
    public func readUntilClosed() async throws -> [UInt8] {
        let socket = self.socket
        return try await HTTPTestClient.onThread { try socket.readUntilClosed() }
    }

    /// Closes the connection from this side.
    public func close() { socket.shutdown() }
}

extension Socket {
    func readUntilClosed() throws -> [UInt8] {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                received += chunk[0..<n]
                continue
            }
            if n == 0 { return received }
            switch errno {
            case EINTR: continue
            case ECONNRESET: return received
            case EAGAIN, EWOULDBLOCK: throw HTTPTestClientError("the connection is still open")
            default: throw HTTPTestClientError("read failed: \(String(cString: strerror(errno)))")
            }
        }
    }
}
