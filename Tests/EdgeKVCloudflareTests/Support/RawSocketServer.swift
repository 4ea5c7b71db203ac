import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What ``RawSocketServer`` does with one connection. Every behaviour reads the request head first (the tests send
/// GETs, which have no body), so that what the client sees does not depend on a race with its send.
enum RawBehaviour: Sendable {
    /// Closes without answering (curl: "Empty reply from server").
    case close
    /// Answers bytes that are not HTTP, then closes.
    case garbage
    /// Answers a status line and headers promising a longer body than it sends, then closes.
    case truncated
    /// Answers a complete response with this status and body, then closes (`Connection: close`).
    case reply(status: Int, body: String)
}

/// A TCP server on 127.0.0.1 built on POSIX sockets, for faults an HTTP framework will not produce: a connection
/// closed without an answer, a reply that is not HTTP, a body cut short. Connections are served one at a time on
/// the server's own thread, and counted.
final class RawSocketServer: Sendable {
    /// The port it listens on.
    let port: Int
    private let listener: Int32
    private let behaviour: @Sendable (Int) -> RawBehaviour
    private let accepted = Mutex(0)
    private let finished = DispatchSemaphore(value: 0)

    /// Listens on an ephemeral port; `behaviour` gets the connection's number (from 0).
    init(_ behaviour: @escaping @Sendable (Int) -> RawBehaviour) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawSocketError("socket() failed: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw RawSocketError("bind/listen failed: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        self.behaviour = behaviour
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "raw-socket-server"
        thread.start()
    }

    /// Connections accepted so far.
    var connections: Int { accepted.withLock { $0 } }

    /// `http://127.0.0.1:port`.
    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Stops accepting and waits for the server's thread to end.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))  // wakes the blocked accept()
        finished.wait()
        close(listener)
    }

    private func acceptLoop() {
        defer { finished.signal() }
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR { continue }
                return
            }
            let index = accepted.withLock { count in
                defer { count += 1 }
                return count
            }
            serve(connection, behaviour(index))
            close(connection)
        }
    }

    private func serve(_ fd: Int32, _ behaviour: RawBehaviour) {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        readHead(fd)
        switch behaviour {
        case .close:
            break
        case .garbage:
            send(fd, "\u{1}\u{2}SSH-2.0-not-http garbage\r\n\r\n")
        case .truncated:
            send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: application/octet-stream\r\n\r\nshort")
        case .reply(let status, let body):
            send(
                fd,
                "HTTP/1.1 \(status) Status\r\nContent-Length: \(body.utf8.count)\r\n"
                    + "Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n\(body)")
        }
    }

    /// Reads until the blank line that ends the request head (or the peer stops sending).
    private func readHead(_ fd: Int32) {
        var head: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !head.ends(with: Array("\r\n\r\n".utf8)) {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            head += buffer[0..<n]
        }
    }

    private func send(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
            }
            if n <= 0 { return }
            sent += n
        }
    }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool {
        count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix
    }
}

/// The raw server could not start.
struct RawSocketError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Starts a raw server, runs `body`, and stops the server, even when `body` throws.
func withRawServer<T>(
    _ behaviour: @escaping @Sendable (Int) -> RawBehaviour, _ body: (RawSocketServer) async throws -> T
) async throws -> T {
    let server = try RawSocketServer(behaviour)
    defer { server.stop() }
    return try await body(server)
}
