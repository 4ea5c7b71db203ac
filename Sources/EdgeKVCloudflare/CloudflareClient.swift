import EdgeKV
import EdgeSupport
import Foundation

/// A client for Cloudflare's v4 Workers KV REST API over libcurl: namespaces, keys, values, metadata and bulk
/// operations, with retries, typed errors, and pagination as async sequences.
public final class CloudflareClient: Sendable {
    /// The configuration.
    public let configuration: CloudflareConfiguration
    let transport: CurlTransport
    /// `{base}/accounts/{account}/storage/kv/namespaces`, built once.
    let root: String
    /// The credential header lines, built once.
    let authHeaders: [String]

    /// Creates a client.
    public init(configuration: CloudflareConfiguration) {
        self.configuration = configuration
        root = "\(configuration.baseURL)/accounts/\(Self.segment(configuration.accountID))/storage/kv/namespaces"
        authHeaders = configuration.credentials.headers
        transport = CurlTransport(
            options: CurlTransport.Options(
                lanes: configuration.lanes, connectTimeout: configuration.connectTimeout,
                requestTimeout: configuration.requestTimeout, caBundle: configuration.caBundle,
                userAgent: "edgekv/1"))
    }

    /// TCP connections the client has opened so far.
    public var connectionsOpened: Int { transport.connectionsOpened }

    // MARK: Requests

    /// One path segment, percent-encoded (a key with `/` stays one segment): every byte of its UTF-8 but ASCII
    /// letters, digits and `-._~!$&'()*+,;=:@` becomes `%XX`.
    static func segment(_ s: String) -> String { PercentCoding.encode(s, keeping: .pathSegment) }

    static func query(_ items: [(String, String?)]) -> String {
        var out = ""
        for case let (name, value?) in items {
            out += (out.isEmpty ? "?" : "&") + name + "=" + PercentCoding.encode(value, keeping: .unreserved)
        }
        return out
    }

    func url(_ path: String, _ query: [(String, String?)] = []) -> String {
        root + path + Self.query(query)
    }

    /// Sends a request, retrying what may succeed later, and returns the reply of a 2xx.
    /// - Throws: ``CloudflareAPIError`` for an error answer, ``CloudflareTransportError`` when no answer came.
    func send(_ method: String, _ url: String, headers: [String] = [], body: [[UInt8]]? = nil) async throws -> HTTPReply
    {
        let policy = configuration.retry
        let clock = ContinuousClock()
        let start = clock.now
        var attempt = 0
        while true {
            attempt += 1
            let call = HTTPCall(method: method, url: url, headers: authHeaders + headers, body: body)
            var wait: Duration?
            var failure: any Error
            do {
                let reply = try await transport.perform(call)
                if (200..<300).contains(reply.status) { return reply }
                failure = apiError(reply, attempts: attempt)
                guard reply.status == 429 || reply.status == 408 || reply.status == 409 || reply.status >= 500 else {
                    throw failure
                }
                if let requested = Self.retryAfter(reply.headers) {
                    // Longer than we wait: give up with the server's answer. Zero or a date already past: no wait
                    // was asked for, so back off as usual.
                    if requested > policy.maxRetryAfter { throw failure }
                    if requested > .zero { wait = requested }
                }
            } catch let error as CloudflareTransportError where error.isRetryable {
                failure = error
            }
            let delay = wait ?? backoff(attempt: attempt, policy: policy)
            guard attempt < policy.maxAttempts, clock.now - start + delay <= policy.deadline else {
                if let api = failure as? CloudflareAPIError {
                    throw CloudflareAPIError(
                        status: api.status, code: api.code, message: api.message, attempts: attempt)
                }
                if var transport = failure as? CloudflareTransportError {
                    transport.attempts = attempt
                    throw transport
                }
                throw failure
            }
            try await Task.sleep(for: delay)
        }
    }

    func backoff(attempt: Int, policy: CloudflareRetryPolicy) -> Duration {
        let base = policy.baseDelay * Int(1 << min(attempt - 1, 16))
        let capped = min(base, policy.maxDelay)
        return capped * (1 - 0.25 * Double.random(in: 0..<1))
    }

    /// The delay the server asks for: `retry-after-ms` (milliseconds), else `Retry-After` (seconds or an HTTP
    /// date); zero or negative for a date already past; nil when absent or not a delay.
    static func retryAfter(_ headers: [String: String], now: Date = Date()) -> Duration? {
        if let ms = headers["retry-after-ms"].flatMap(Double.init), ms.isFinite {
            return clamped(milliseconds: ms)
        }
        guard let value = headers["retry-after"] else { return nil }
        if let seconds = Double(value), seconds.isFinite { return clamped(milliseconds: seconds * 1000) }
        if let date = IMFDate.parse(value) { return clamped(milliseconds: date.timeIntervalSince(now) * 1000) }
        return nil
    }

    /// A server-sent delay as a `Duration`, held within ±1 year: `Duration.milliseconds` traps on a value such as
    /// `1e300`, and the retry policy caps any delay far below a year anyway.
    static func clamped(milliseconds: Double) -> Duration {
        let year = 365.0 * 86_400_000
        return .milliseconds(min(max(milliseconds, -year), year))
    }

    /// ``apiError(_:attempts:)`` with the credentials' secrets blanked out of the message: a proxy that echoes the
    /// request's headers into its error page must not put the token into an error.
    func apiError(_ reply: HTTPReply, attempts: Int) -> CloudflareAPIError {
        let error = Self.apiError(reply, attempts: attempts)
        return CloudflareAPIError(
            status: error.status, code: error.code, message: configuration.credentials.redacting(error.message),
            attempts: attempts)
    }

    static func apiError(_ reply: HTTPReply, attempts: Int) -> CloudflareAPIError {
        if let envelope = try? JSONValue(parsing: reply.body), let first = envelope["errors"]?.arrayValue?.first {
            let code: Int? =
                switch first["code"] {
                case .int(let i): Int(i)
                case .double(let d): Int(d)
                default: nil
                }
            return CloudflareAPIError(
                status: reply.status, code: code, message: first["message"]?.stringValue ?? "no message",
                attempts: attempts)
        }
        let text = String(decoding: reply.body.prefix(200), as: UTF8.self)
        return CloudflareAPIError(
            status: reply.status, code: nil,
            message: text.isEmpty ? "empty response body" : "response is not a Cloudflare envelope: \(text)",
            attempts: attempts)
    }

    /// The `result` of a JSON envelope (null when absent).
    func result(_ reply: HTTPReply) throws -> (result: JSONValue, info: JSONValue?) {
        guard let envelope = try? JSONValue(parsing: reply.body), envelope.objectValue != nil else {
            let text = configuration.credentials.redacting(String(decoding: reply.body.prefix(200), as: UTF8.self))
            throw CloudflareAPIError(
                status: reply.status, code: nil, message: "malformed response (not a JSON envelope): \(text)",
                attempts: 1)
        }
        if case .bool(false) = envelope["success"] { throw apiError(reply, attempts: 1) }
        return (envelope["result"] ?? .null, envelope["result_info"])
    }

    func json(
        _ method: String, _ url: String, body: JSONValue? = nil
    ) async throws -> (
        result: JSONValue, info: JSONValue?
    ) {
        let reply = try await send(
            method, url, headers: body == nil ? [] : ["Content-Type: application/json"],
            body: body.map { [Array($0.serialized.utf8)] })
        return try result(reply)
    }

    // MARK: Namespaces

    static func namespace(_ value: JSONValue) throws -> KVNamespaceInfo {
        guard let id = value["id"]?.stringValue, let title = value["title"]?.stringValue else {
            throw CloudflareAPIError(status: 200, code: nil, message: "malformed namespace: \(value)", attempts: 1)
        }
        return KVNamespaceInfo(id: id, title: title)
    }

    /// One page of namespaces.
    public func listNamespaces(
        page: Int = 1, perPage: Int = 100, order: String? = nil, direction: String? = nil
    )
        async throws -> [KVNamespaceInfo]
    {
        let (result, _) = try await json(
            "GET",
            url(
                "", [("page", String(page)), ("per_page", String(perPage)), ("order", order), ("direction", direction)])
        )
        return try (result.arrayValue ?? []).map(Self.namespace)
    }

    /// Every namespace, page after page.
    public func namespaces(perPage: Int = 100) -> AsyncThrowingStream<KVNamespaceInfo, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    var page = 1
                    while true {
                        let items = try await listNamespaces(page: page, perPage: perPage)
                        if items.isEmpty { break }
                        for item in items { continuation.yield(item) }
                        page += 1
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// The namespace with this id.
    /// - Throws: ``CloudflareAPIError`` 10013 when there is none.
    public func getNamespace(id: String) async throws -> KVNamespaceInfo {
        try Self.namespace(try await json("GET", url("/\(Self.segment(id))")).result)
    }

    // MARK: Keys and values

    /// One page of keys (`limit` 10…1000).
    public func listKeys(
        namespaceID: String, prefix: String? = nil, limit: Int? = nil, cursor: String? = nil
    )
        async throws -> KVListResult
    {
        let (result, info) = try await json(
            "GET",
            url(
                "/\(Self.segment(namespaceID))/keys",
                [
                    ("prefix", prefix.flatMap { $0.isEmpty ? nil : $0 }), ("limit", limit.map(String.init)),
                    ("cursor", cursor),
                ]))
        let keys = try (result.arrayValue ?? []).map { item -> KVListKey in
            guard let name = item["name"]?.stringValue else {
                throw CloudflareAPIError(status: 200, code: nil, message: "malformed key entry: \(item)", attempts: 1)
            }
            let expiration: Int64? =
                switch item["expiration"] {
                case .int(let i): i
                case .double(let d): Int64(d)
                default: nil
                }
            return KVListKey(
                name: name, expiration: expiration, metadata: item["metadata"].flatMap { $0 == .null ? nil : $0 })
        }
        let next = info?["cursor"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        return KVListResult(keys: keys, listComplete: next == nil, cursor: next)
    }

    /// Every key with the prefix, page after page.
    public func keys(namespaceID: String, prefix: String? = nil) -> AsyncThrowingStream<KVListKey, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    var cursor: String?
                    repeat {
                        let page = try await listKeys(namespaceID: namespaceID, prefix: prefix, cursor: cursor)
                        for key in page.keys { continuation.yield(key) }
                        cursor = page.cursor
                    } while cursor != nil
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    func valueURL(_ namespaceID: String, _ key: String, _ query: [(String, String?)] = []) -> String {
        url("/\(Self.segment(namespaceID))/values/\(Self.segment(key))", query)
    }

    /// A value's bytes and expiry; nil when the key does not exist.
    public func readValue(namespaceID: String, key: String) async throws -> (value: [UInt8], expiration: Int64?)? {
        do {
            let reply = try await send("GET", valueURL(namespaceID, key))
            let expiration = reply.headers["expiration"].flatMap { Double($0) }.map { Int64($0) }
            return (reply.body, expiration)
        } catch let error as CloudflareAPIError where error.status == 404 && error.code == 10009 {
            return nil
        }
    }

    /// A key's metadata (`.null` when it has none); nil when the key does not exist.
    public func readMetadata(namespaceID: String, key: String) async throws -> JSONValue? {
        do {
            return try await json("GET", url("/\(Self.segment(namespaceID))/metadata/\(Self.segment(key))")).result
        } catch let error as CloudflareAPIError where error.status == 404 && error.code == 10009 {
            return nil
        }
    }

    /// Writes a value: a raw body, or multipart with `value` and `metadata` parts when there is metadata.
    public func writeValue(
        namespaceID: String, key: String, value: [UInt8], metadata: JSONValue? = nil, expiration: Int64? = nil,
        expirationTtl: Int64? = nil
    ) async throws {
        let target = valueURL(
            namespaceID, key,
            [("expiration", expiration.map(String.init)), ("expiration_ttl", expirationTtl.map(String.init))])
        if let metadata {
            let boundary = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
            let head = Array(
                ("--\(boundary)\r\nContent-Disposition: form-data; name=\"value\"; filename=\"blob\"\r\n"
                    + "Content-Type: application/octet-stream\r\n\r\n").utf8)
            let tail = Array(
                ("\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"metadata\"\r\n"
                    + "Content-Type: application/json\r\n\r\n\(metadata.serialized)\r\n--\(boundary)--\r\n").utf8)
            _ = try result(
                try await send(
                    "PUT", target, headers: ["Content-Type: multipart/form-data; boundary=\(boundary)"],
                    body: [head, value, tail]))
        } else {
            _ = try result(
                try await send("PUT", target, headers: ["Content-Type: application/octet-stream"], body: [value]))
        }
    }

    /// Deletes a key (a missing key is not an error).
    public func deleteValue(namespaceID: String, key: String) async throws {
        _ = try await json("DELETE", valueURL(namespaceID, key))
    }

    // MARK: Bulk

    /// One item of a bulk write.
    public struct BulkWriteItem: Sendable {
        /// The key.
        public var key: String
        /// The value's bytes (sent as text when UTF-8, else base64).
        public var value: [UInt8]
        /// Absolute expiry in seconds.
        public var expiration: Int64?
        /// Expiry relative to now in seconds.
        public var expirationTtl: Int64?
        /// Metadata.
        public var metadata: JSONValue?

        /// Creates an item.
        public init(
            key: String, value: [UInt8], expiration: Int64? = nil, expirationTtl: Int64? = nil,
            metadata: JSONValue? = nil
        ) {
            self.key = key
            self.value = value
            self.expiration = expiration
            self.expirationTtl = expirationTtl
            self.metadata = metadata
        }

        var json: JSONValue {
            var o: [String: JSONValue] = ["key": .string(key)]
            if let text = String(validating: value, as: UTF8.self) {
                o["value"] = .string(text)
            } else {
                o["value"] = .string(Data(value).base64EncodedString())
                o["base64"] = true
            }
            if let expiration { o["expiration"] = .int(expiration) }
            if let expirationTtl { o["expiration_ttl"] = .int(expirationTtl) }
            if let metadata { o["metadata"] = metadata }
            return .object(o)
        }
    }

    /// What a bulk write or delete reports.
    public struct BulkResult: Sendable, Hashable {
        /// Keys written or deleted.
        public var successfulKeyCount: Int
        /// Keys the API reported as not done (to retry).
        public var unsuccessfulKeys: [String]
    }

    static func bulkResult(_ result: JSONValue, count: Int) -> BulkResult {
        let failed = result["unsuccessful_keys"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let done: Int =
            switch result["successful_key_count"] {
            case .int(let i): Int(i)
            case .double(let d): Int(d)
            default: count - failed.count
            }
        return BulkResult(successfulKeyCount: done, unsuccessfulKeys: failed)
    }

    /// Writes up to 10,000 items (100 MB) in one request.
    public func bulkWrite(namespaceID: String, items: [BulkWriteItem]) async throws -> BulkResult {
        let (result, _) = try await json(
            "PUT", url("/\(Self.segment(namespaceID))/bulk"), body: .array(items.map(\.json)))
        return Self.bulkResult(result, count: items.count)
    }

    /// Deletes up to 10,000 keys in one request.
    public func bulkDelete(namespaceID: String, keys: [String]) async throws -> BulkResult {
        let (result, _) = try await json(
            "POST", url("/\(Self.segment(namespaceID))/bulk/delete"), body: .array(keys.map { .string($0) }))
        return Self.bulkResult(result, count: keys.count)
    }

    /// Reads up to 100 text values with their metadata and expiry; a missing key is absent.
    public func bulkGet(namespaceID: String, keys: [String]) async throws -> [String: KVEntry] {
        let body: JSONValue = ["keys": .array(keys.map { .string($0) }), "type": "text", "withMetadata": true]
        let (result, _) = try await json("POST", url("/\(Self.segment(namespaceID))/bulk/get"), body: body)
        var entries: [String: KVEntry] = [:]
        for (key, item) in result["values"]?.objectValue ?? [:] {
            guard item != .null, let text = item["value"]?.stringValue else { continue }
            let expiration: Int64? =
                switch item["expiration"] {
                case .int(let i): i
                case .double(let d): Int64(exactly: d.rounded(.down))
                default: nil
                }
            entries[key] = KVEntry(
                value: Array(text.utf8), metadata: item["metadata"].flatMap { $0 == .null ? nil : $0 },
                expiration: expiration)
        }
        return entries
    }
}

extension CloudflareClient: CustomReflectable {
    /// The configuration (whose credentials show no secret) and the connections opened — not the transport, whose
    /// header lines carry the credentials.
    public var customMirror: Mirror {
        Mirror(self, children: ["configuration": configuration, "connectionsOpened": connectionsOpened])
    }
}
