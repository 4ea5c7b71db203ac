import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The HTTP target of a replay cannot be reached: nothing listens there, the host is unknown, the connection dropped.
public struct ReplayTargetUnreachable: Error, Sendable, CustomStringConvertible {
    /// The target as given (`http://127.0.0.1:8787`).
    public let baseURL: String
    /// Why, in a few words (`connection refused`).
    public let reason: String

    /// Creates the error.
    public init(baseURL: String, reason: String) {
        self.baseURL = baseURL
        self.reason = reason
    }

    /// `cannot reach http://127.0.0.1:8787: connection refused`.
    public var description: String { "cannot reach \(baseURL): \(reason)" }

    /// The short form of a URLSession error that means the server was not reached, or nil for any other error
    /// (Foundation's own text carries the whole `userInfo` dictionary, which says nothing more to a reader).
    static func from(_ error: any Error, baseURL: String) -> ReplayTargetUnreachable? {
        guard let error = error as? URLError else { return nil }
        let reason: String
        switch error.code {
        case .cannotConnectToHost: reason = "connection refused"
        case .cannotFindHost, .dnsLookupFailed: reason = "unknown host"
        case .timedOut: reason = "timed out"
        case .networkConnectionLost: reason = "the connection was lost"
        case .notConnectedToInternet: reason = "network is unreachable"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
            .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot:
            reason = "TLS handshake failed"
        default: return nil
        }
        return ReplayTargetUnreachable(baseURL: baseURL, reason: reason)
    }
}

extension ReplayRunner {
    /// Opens (and closes) a TCP connection to the target's host and port, sending nothing: the app sees no request.
    /// - Throws: ``ReplayTargetUnreachable`` when the connection cannot be made within `timeout`.
    public static func checkReachable(_ baseURL: String, timeout: Duration = .seconds(5)) throws {
        guard let url = URL(string: baseURL), let host = url.host, !host.isEmpty else {
            throw ReplayTargetUnreachable(baseURL: baseURL, reason: "not a URL with a host")
        }
        let port = url.port ?? (url.scheme?.lowercased() == "https" ? 443 : 80)
        // IPv6 literals come back from URL.host with their brackets.
        let name = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, String(port), &hints, &list) == 0, let first = list else {
            throw ReplayTargetUnreachable(baseURL: baseURL, reason: "unknown host \(name)")
        }
        defer { freeaddrinfo(list) }
        var lastError: Int32 = ECONNREFUSED
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            if fd < 0 {
                lastError = errno
                continue
            }
            defer { close(fd) }
            let error = connect(
                fd: fd, address: info.pointee.ai_addr, length: info.pointee.ai_addrlen, timeout: timeout)
            if error == 0 { return }
            lastError = error
        }
        let reason = lastError == ETIMEDOUT ? "timed out" : String(cString: strerror(lastError)).lowercased()
        throw ReplayTargetUnreachable(baseURL: baseURL, reason: reason)
    }

    /// Connects `fd` without blocking longer than `timeout`; returns 0 or the errno.
    private static func connect(
        fd: Int32, address: UnsafeMutablePointer<sockaddr>?, length: socklen_t, timeout: Duration
    ) -> Int32 {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        #if canImport(Glibc)
        let started = Glibc.connect(fd, address, length)
        #else
        let started = Darwin.connect(fd, address, length)
        #endif
        if started == 0 { return 0 }
        guard errno == EINPROGRESS else { return errno }
        var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let milliseconds = Int32(
            timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        var ready: Int32
        repeat { ready = poll(&poller, 1, milliseconds) } while ready < 0 && errno == EINTR
        if ready == 0 { return ETIMEDOUT }
        if ready < 0 { return errno }
        var error: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) == 0 else { return errno }
        return error
    }
}
