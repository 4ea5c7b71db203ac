import EdgeSession
import EdgeSupport

/// Where and how to reach a Redis server.
///
/// `description` never shows the password.
public struct RedisConfiguration: Sendable, Hashable, CustomStringConvertible {
    /// Host name or IP address (IPv6 without brackets).
    public var host: String
    /// TCP port (default 6379).
    public var port: Int
    /// The ACL user (Redis 6+), or nil for the default user.
    public var username: String?
    /// The password, or nil when the server needs none.
    public var password: String?
    /// The database number (`SELECT`), default 0.
    public var database: Int
    /// How long connecting may take, in milliseconds.
    public var connectTimeoutMilliseconds: Int
    /// How long one command may take, in milliseconds.
    public var commandTimeoutMilliseconds: Int
    /// How many connections (each on its own serial queue) the client keeps: requests are spread over them.
    public var connections: Int

    /// Creates a configuration.
    public init(
        host: String = "127.0.0.1", port: Int = 6379, username: String? = nil, password: String? = nil,
        database: Int = 0, connectTimeoutMilliseconds: Int = 2000, commandTimeoutMilliseconds: Int = 5000,
        connections: Int = 4
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.commandTimeoutMilliseconds = commandTimeoutMilliseconds
        self.connections = connections
    }

    /// Parses `redis://[[user]:password@]host[:port][/db][?db=N]` (password and user percent-decoded; IPv6 hosts
    /// in brackets).
    /// - Throws: ``SessionError`` ``SessionError/Code/invalidConfiguration`` naming the part that is wrong (never
    ///   the password); `rediss://` is refused, since the hiredis here has no TLS.
    public init(url: String) throws {
        func fail(_ why: String) -> SessionError {
            SessionError(
                .invalidConfiguration, "invalid Redis URL: \(why) (expected redis://[:password@]host[:port][/db])")
        }
        self.init()
        let lowered = url.lowercased()
        if lowered.hasPrefix("rediss://") {
            throw fail("rediss:// (TLS) is not supported by this build's hiredis; use redis:// on a trusted network")
        }
        guard lowered.hasPrefix("redis://") else { throw fail("the scheme must be redis://") }
        var rest = Substring(url.dropFirst("redis://".count))
        var query: Substring?
        if let q = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        var hostPort = rest
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            hostPort = rest[rest.index(after: at)...]
            guard let colon = userinfo.firstIndex(of: ":") else {
                throw fail("the user info has no password; write redis://:password@host or redis://user:password@host")
            }
            let user = userinfo[..<colon]
            guard let decodedUser = PercentCoding.decode(user),
                let decodedPassword = PercentCoding.decode(userinfo[userinfo.index(after: colon)...])
            else { throw fail("the user info has a bad percent escape") }
            username = user.isEmpty ? nil : decodedUser
            password = decodedPassword.isEmpty ? nil : decodedPassword
        }
        var portText: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw fail("an IPv6 host lacks its closing ]") }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("unexpected text after the IPv6 host") }
                portText = after.dropFirst()
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            portText = hostPort[hostPort.index(after: colon)...]
        } else {
            host = String(hostPort)
        }
        guard !host.isEmpty else { throw fail("the host is missing") }
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw fail("the port \"\(portText)\" is not a number from 1 to 65535")
            }
            port = value
        }
        var databaseText: Substring? = path.isEmpty ? nil : path
        for pair in query?.split(separator: "&") ?? [] {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts[0] == "db", parts.count == 2 { databaseText = parts[1] }
        }
        if let databaseText {
            guard let value = Int(databaseText), value >= 0 else {
                throw fail("the database \"\(databaseText)\" is not a non-negative number")
            }
            database = value
        }
    }

    /// `redis://host:port/db`, with `user:***@` when credentials are set.
    public var description: String {
        var credentials = ""
        if username != nil || password != nil { credentials = "\(username ?? ""):***@" }
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "redis://\(credentials)\(shownHost):\(port)/\(database)"
    }

    /// Where the server is, for error messages (no credentials).
    var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
