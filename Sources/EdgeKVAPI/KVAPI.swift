import Edge
import EdgeKV
import EdgeSupport
import Foundation
import HTTPTypes
import Logging

/// The Cloudflare v4 Workers KV REST API as an edge handler, over any ``KVNamespaceManager``.
///
/// Serves `/client/v4/accounts/{account_id}/storage/kv/namespaces…` (and the same paths without `/client/v4`), with
/// Cloudflare's envelope, error codes and limits, so the REST client, wrangler, the official SDKs and curl work
/// against local state.
public struct KVAPI: Sendable {
    /// Who may call and which account is served.
    public struct Configuration: Sendable {
        /// When set, every request must carry `Authorization: Bearer <token>` (or the key pair below).
        public var token: String?
        /// When set with ``authKey``, `X-Auth-Email` + `X-Auth-Key` authenticate too.
        public var authEmail: String?
        /// The global API key that goes with ``authEmail``.
        public var authKey: String?
        /// When set, only this account id is served; others get 403.
        public var accountID: String?

        /// Creates a configuration. Without a token or key pair any credential (or none) is accepted.
        public init(token: String? = nil, authEmail: String? = nil, authKey: String? = nil, accountID: String? = nil) {
            self.token = token
            self.authEmail = authEmail
            self.authKey = authKey
            self.accountID = accountID
        }
    }

    /// The largest bulk request body (100 MB).
    public static let maxBulkBodyBytes = 100_000_000
    /// The most items in one bulk write or delete.
    public static let maxBulkItems = 10_000
    /// The largest value-write body: the value limit plus room for multipart framing and metadata.
    static let maxValueBodyBytes = KVLimits.maxValueBytes + 64 * 1024

    let namespaces: any KVNamespaceManager
    let configuration: Configuration

    /// Creates the API over `namespaces`.
    public init(namespaces: any KVNamespaceManager, configuration: Configuration = Configuration()) {
        self.namespaces = namespaces
        self.configuration = configuration
    }

    /// The handler to give an ``EdgeRuntime``.
    public var handler: Handler {
        { request, context in await self.handle(request, context: context) }
    }

    /// Answers one request; never throws: every failure is an envelope.
    public func handle(_ request: Request, context: Context) async -> Response {
        do {
            try authenticate(request)
            return try await route(request, context: context)
        } catch let error as APIError {
            return Envelope.failure(error)
        } catch let error as KVError {
            return Envelope.failure(APIError(error))
        } catch let error as KVNamespaceError {
            return Envelope.failure(APIError(error))
        } catch let error as BodyTooLargeError {
            return Envelope.failure(APIError.bodyTooLarge(limit: error.limit))
        } catch {
            context.logger.error("KV API request failed", metadata: ["path": "\(request.path)", "error": "\(error)"])
            return Envelope.failure(APIError(status: 500, code: 10500, message: "Internal error"))
        }
    }

    // MARK: Auth

    func authenticate(_ request: Request) throws {
        guard configuration.token != nil || configuration.authKey != nil else { return }
        let authorization = request.headers[.authorization]
        let email = request.headers[HTTPField.Name("X-Auth-Email")!]
        let key = request.headers[HTTPField.Name("X-Auth-Key")!]
        if let token = configuration.token, let authorization {
            // The scheme is case-insensitive (RFC 9110 §11.1): `bearer` and `BEARER` are `Bearer`.
            let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            if parts.count == 2, parts[0].lowercased() == "bearer",
                constantTimeEqual(parts[1].drop(while: { $0 == " " }).utf8, token.utf8)
            {
                return
            }
            throw APIError.authenticationError
        }
        if let authKey = configuration.authKey, let email, let key {
            if email == configuration.authEmail, constantTimeEqual(key.utf8, authKey.utf8) { return }
            throw APIError.authenticationError
        }
        if authorization != nil || key != nil { throw APIError.authenticationError }
        throw APIError.unauthenticated
    }

    // MARK: Routing

    /// What a request asks for, once its method and path are matched.
    enum Endpoint: Sendable {
        case listNamespaces, createNamespace, readNamespace, renameNamespace, deleteNamespace
        case listKeys, readValue, writeValue, deleteValue, readMetadata, bulkWrite, bulkDelete, bulkGet
    }

    /// Every route, relative to the API's root (with or without `/client/v4`).
    static let router: Router<Endpoint> = {
        let namespaces = "/accounts/:account/storage/kv/namespaces"
        let namespace = namespaces + "/:namespace"
        var router = Router<Endpoint>()
        router.add(.get, namespaces, .listNamespaces)
        router.add(.post, namespaces, .createNamespace)
        router.add(.get, namespace, .readNamespace)
        router.add(.put, namespace, .renameNamespace)
        router.add(.delete, namespace, .deleteNamespace)
        router.add(.get, namespace + "/keys", .listKeys)
        router.add(.get, namespace + "/values/:key", .readValue)
        router.add(.put, namespace + "/values/:key", .writeValue)
        router.add(.delete, namespace + "/values/:key", .deleteValue)
        router.add(.get, namespace + "/metadata/:key", .readMetadata)
        router.add(.put, namespace + "/bulk", .bulkWrite)
        router.add(.delete, namespace + "/bulk", .bulkDelete)
        router.add(.post, namespace + "/bulk/delete", .bulkDelete)
        router.add(.post, namespace + "/bulk/get", .bulkGet)
        return router
    }()

    // Parameters checked before the route and the method, whatever follows them: the account of any path under
    // `namespaces`, the id of any path under a namespace, and the key of a value (a key that cannot be decoded is a
    // 400 on any method).
    static let accountScope = RoutePattern("/accounts/:account/storage/kv/namespaces")
    static let namespaceScope = RoutePattern("/accounts/:account/storage/kv/namespaces/:namespace")
    static let valuePattern = RoutePattern("/accounts/:account/storage/kv/namespaces/:namespace/values/:key")

    func route(_ request: Request, context: Context) async throws -> Response {
        // Route on the raw path; decode each parameter with plain percent-decoding (`+` stays `+`).
        var segments = RoutePattern.segments(ofPath: request.path)
        if segments.starts(with: ["client", "v4"]) { segments.removeFirst(2) }
        if segments.last == "" { segments.removeLast() }
        if let scope = Self.accountScope.matchPrefix(segments) {
            let account = try decodeSegment(scope["account"] ?? "", what: "account id")
            if let pinned = configuration.accountID, account != pinned {
                throw APIError(
                    status: 403, code: 10000, message: "Authentication error: this server serves one account only")
            }
        }
        let id = try Self.namespaceScope.matchPrefix(segments).map { try namespaceID($0["namespace"] ?? "") } ?? ""
        let valueKey = try Self.valuePattern.match(segments).map { try decodeKey($0["key"] ?? "") } ?? ""
        switch Self.router.match(request.method, segments: segments) {
        case .notFound:
            throw APIError.noRoute
        case .methodNotAllowed:
            throw APIError.methodNotAllowed(request.method)
        case .found(let endpoint, let parameters):
            switch endpoint {
            case .listNamespaces: return try await listNamespaces(request)
            case .createNamespace: return try await createNamespace(request)
            case .readNamespace: return Envelope.success(namespaceJSON(try await requireNamespace(id)))
            case .renameNamespace: return try await renameNamespace(id, request)
            case .deleteNamespace:
                try await namespaces.deleteNamespace(id: id)
                return Envelope.success(.object([:]))
            case .listKeys: return try await listKeys(id, request)
            case .readValue: return try await readValue(id, valueKey)
            case .writeValue: return try await writeValue(id, valueKey, request)
            case .deleteValue:
                let kv = try await namespace(id)
                try await kv.delete(valueKey)
                return Envelope.success(.object([:]))
            case .readMetadata:
                let key = try decodeKey(parameters["key"] ?? "")
                // The key is checked before the namespace is looked up, as well as by the read.
                try KVValidation.validateKey(key, for: .get)
                guard let entry = try await namespace(id).getEntry(key) else { throw APIError.keyNotFound }
                return Envelope.success(entry.metadata ?? .null)
            case .bulkWrite: return try await bulkWrite(id, request)
            case .bulkDelete: return try await bulkDelete(id, request)
            case .bulkGet: return try await bulkGet(id, request)
            }
        }
    }

    func decodeSegment(_ raw: String, what: String) throws -> String {
        guard let decoded = PercentCoding.decode(raw), !decoded.isEmpty else {
            throw APIError.badRequest("Could not URL-decode \(what)")
        }
        return decoded
    }

    /// A namespace id segment, decoded and checked (a NUL in it is refused, not cut off).
    func namespaceID(_ raw: String) throws -> String {
        let id = try decodeSegment(raw, what: "namespace id")
        try KVNamespaceInfo.validateID(id)
        return id
    }

    /// A key segment: plain percent-decoding, with the KV service's texts for bad keys.
    func decodeKey(_ raw: String) throws -> String {
        guard let key = PercentCoding.decode(raw) else { throw APIError.badRequest("Could not URL-decode key name") }
        if key.isEmpty { throw APIError.badRequest("Key names must not be empty") }
        if key == "." || key == ".." {
            throw APIError.badRequest("Illegal key name \"\(key)\". Please use a different name.")
        }
        return key
    }

    func requireNamespace(_ id: String) async throws -> KVNamespaceInfo {
        guard let info = try await namespaces.namespaceInfo(id: id) else { throw KVNamespaceError.notFound(id) }
        return info
    }

    /// The namespace for a key operation; it must exist (as in the real API).
    func namespace(_ id: String) async throws -> any KVNamespace {
        _ = try await requireNamespace(id)
        return namespaces.namespace(id: id)
    }

    func namespaceJSON(_ info: KVNamespaceInfo) -> JSONValue {
        ["id": .string(info.id), "title": .string(info.title), "supports_url_encoding": true]
    }

    // MARK: Numbers and bodies

    /// A query number: `10`, `10.0` and `1795979976.5` are accepted (rounded down).
    /// - Throws: ``APIError`` 400 for text that is not a finite number within ±9 × 10¹⁵.
    func number(_ request: Request, _ name: String) throws -> Int64? {
        guard let text = request.queryValue(name), !text.isEmpty else { return nil }
        guard let number = WholeNumber.parse(text) else {
            throw APIError.badRequest(
                "Invalid \(name): \(String(reflecting: text)) is not a number between -9e15 and 9e15")
        }
        return number
    }

    func jsonBody(_ request: Request, limit: Int) async throws -> JSONValue {
        let bytes = try await request.bytes(limit: limit)
        do {
            return try JSONValue(parsing: bytes)
        } catch {
            throw APIError.badRequest("Malformed JSON in request body: \(error)")
        }
    }

    // MARK: Namespaces

    func listNamespaces(_ request: Request) async throws -> Response {
        let page = try number(request, "page") ?? 1
        let perPage = try number(request, "per_page") ?? 20
        guard page >= 1 else { throw APIError.badRequest("Invalid page: must be at least 1") }
        guard (1...1000).contains(perPage) else { throw APIError.badRequest("Invalid per_page: must be 1 to 1000") }
        let order = request.queryValue("order") ?? "id"
        let direction = request.queryValue("direction") ?? "asc"
        guard order == "id" || order == "title" else {
            throw APIError.badRequest("Invalid order: \(String(reflecting: order)); use \"id\" or \"title\"")
        }
        guard direction == "asc" || direction == "desc" else {
            throw APIError.badRequest("Invalid direction: \(String(reflecting: direction)); use \"asc\" or \"desc\"")
        }
        var all = try await namespaces.listNamespaces()
        all.sort { a, b in
            let (x, y) = order == "title" ? (a.title, b.title) : (a.id, b.id)
            return x == y ? a.id < b.id : x < y
        }
        if direction == "desc" { all.reverse() }
        let start = Int(min(Int64(all.count), (page - 1) * perPage))
        let slice = all[start..<min(all.count, start + Int(perPage))]
        let info: JSONValue = [
            "page": .int(page), "per_page": .int(perPage), "count": .int(Int64(slice.count)),
            "total_count": .int(Int64(all.count)),
            "total_pages": .int(Int64((all.count + Int(perPage) - 1) / Int(perPage))),
        ]
        return Envelope.success(.array(slice.map(namespaceJSON)), resultInfo: info)
    }

    func title(from request: Request) async throws -> String {
        let body = try await jsonBody(request, limit: 64 * 1024)
        guard let title = body["title"]?.stringValue else {
            throw APIError.badRequest("The request body must be a JSON object with a string \"title\"")
        }
        return title
    }

    func createNamespace(_ request: Request) async throws -> Response {
        let info = try await namespaces.createNamespace(title: try await title(from: request))
        return Envelope.success(namespaceJSON(info))
    }

    func renameNamespace(_ id: String, _ request: Request) async throws -> Response {
        let title = try await title(from: request)
        try await namespaces.renameNamespace(id: id, title: title)
        return Envelope.success(namespaceJSON(KVNamespaceInfo(id: id, title: title)))
    }

    // MARK: Keys and values

    func listKeys(_ id: String, _ request: Request) async throws -> Response {
        let kv = try await namespace(id)
        let limit = try number(request, "limit") ?? 1000
        if limit < 10 {
            throw APIError.badRequest("Invalid key_count_limit of \(limit). Please specify an integer of at least 10.")
        }
        if limit > 1000 {
            throw APIError.badRequest("Invalid key_count_limit of \(limit). Please specify an integer less than 1000.")
        }
        let cursor = request.queryValue("cursor").flatMap { $0.isEmpty ? nil : $0 }
        let page = try await kv.list(prefix: request.queryValue("prefix"), limit: Int(limit), cursor: cursor)
        let keys: [JSONValue] = page.keys.map { key in
            var o: [String: JSONValue] = ["name": .string(key.name)]
            if let e = key.expiration { o["expiration"] = .int(e) }
            if let m = key.metadata { o["metadata"] = m }
            return .object(o)
        }
        let info: JSONValue = ["count": .int(Int64(keys.count)), "cursor": .string(page.cursor ?? "")]
        return Envelope.success(.array(keys), resultInfo: info)
    }

    func readValue(_ id: String, _ key: String) async throws -> Response {
        // The key is checked before the namespace is looked up, as well as by the read.
        try KVValidation.validateKey(key, for: .get)
        guard let entry = try await namespace(id).getEntry(key) else { throw APIError.keyNotFound }
        var headers: HTTPFields = [:]
        if let e = entry.expiration { headers[HTTPField.Name("expiration")!] = String(e) }
        return Response.bytes(entry.value, headers: headers)
    }

    func writeValue(_ id: String, _ key: String, _ request: Request) async throws -> Response {
        let kv = try await namespace(id)
        let options = KVPutOptions(
            expiration: try number(request, "expiration"), expirationTtl: try number(request, "expiration_ttl"))
        let body = try await request.bytes(limit: Self.maxValueBodyBytes)
        var value = body
        var metadata: JSONValue?
        if let contentType = request.headers[.contentType], contentType.lowercased().hasPrefix("multipart/form-data") {
            let form = try MultipartForm.parse(body, contentType: contentType)
            guard let v = form.parts["value"] else {
                throw APIError.badRequest("The multipart body has no \"value\" part")
            }
            value = v
            if let m = form.parts["metadata"], !m.isEmpty {
                do {
                    metadata = try JSONValue(parsing: m)
                } catch {
                    throw APIError.badRequest("The \"metadata\" part is not valid JSON: \(error)")
                }
            }
        }
        try await kv.put(
            key, bytes: value,
            options: KVPutOptions(
                expiration: options.expiration, expirationTtl: options.expirationTtl, metadata: metadata))
        return Envelope.success(.object([:]))
    }

    // MARK: Bulk

    /// The largest bulk read body; 100 keys of 512 bytes fit many times over, even escaped.
    static let maxBulkGetBodyBytes = 1024 * 1024

    /// Reads a bulk body element by element as it streams in (see ``JSONElementReader``), so that the body limit,
    /// the element limit and what `handle` checks of each element refuse a request at the first byte, element or
    /// item past them, without holding the body or its parsed tree whole.
    /// - Returns: whether the array was there (it may be missing from the object form).
    /// - Throws: ``APIError`` 413 past `limit` bytes (at once when `Content-Length` says so), `tooMany` past
    ///   `reader.maxElements`, `wrongShape` for a body of another shape, 400 for text that is not JSON, or what
    ///   `handle` throws.
    @discardableResult
    func readElements(
        of request: Request, limit: Int, reader: JSONElementReader, wrongShape: APIError,
        tooMany: APIError? = nil, _ handle: (JSONElementReader.Event) throws -> Void
    ) async throws -> Bool {
        if let declared = request.declaredContentLength, declared > limit {
            throw APIError.bodyTooLarge(limit: limit)
        }
        var reader = reader
        var received = 0
        do {
            for try await chunk in request.body.chunks {
                received += chunk.count
                if received > limit { throw APIError.bodyTooLarge(limit: limit) }
                try reader.consume(chunk, handle)
            }
            try reader.finish()
        } catch let failure as JSONElementReader.Failure {
            switch failure {
            case .wrongShape, .duplicateArray: throw wrongShape
            case .tooManyElements:
                throw tooMany ?? .badRequest("The request body has more than \(reader.maxElements) elements")
            case .memberTooLarge:
                throw APIError.badRequest("A member of the request body is larger than \(reader.maxMemberBytes) bytes")
            case .malformed(let offset, let reason):
                throw APIError.badRequest("Malformed JSON in request body: invalid JSON at byte \(offset): \(reason)")
            }
        }
        return reader.arrayMember == nil || reader.sawArray
    }

    func bulkWrite(_ id: String, _ request: Request) async throws -> Response {
        let kv = try await namespace(id)
        var writes: [(key: String, write: KVWrite)] = []
        try await readElements(
            of: request, limit: Self.maxBulkBodyBytes, reader: JSONElementReader(maxElements: Self.maxBulkItems),
            wrongShape: .badRequest("The request body must be a JSON array of {key, value, …} objects"),
            tooMany: .badRequest("A bulk write takes at most \(Self.maxBulkItems) items; this one has more")
        ) { event in
            guard case .element(let index, let item) = event else { return }
            do {
                writes.append(try BulkItem.write(item, clock: kv.clock))
            } catch let error as KVError {
                throw APIError(error, prefix: "[\(index)]: ")
            } catch let error as APIError {
                throw APIError(status: error.status, code: error.code, message: "[\(index)]: \(error.message)")
            }
        }
        try await kv.writeEntries(writes)
        return Envelope.success(["successful_key_count": .int(Int64(writes.count)), "unsuccessful_keys": []])
    }

    func bulkDelete(_ id: String, _ request: Request) async throws -> Response {
        let kv = try await namespace(id)
        var keys: [String] = []
        try await readElements(
            of: request, limit: Self.maxBulkBodyBytes, reader: JSONElementReader(maxElements: Self.maxBulkItems),
            wrongShape: .badRequest("The request body must be a JSON array of key names"),
            tooMany: .badRequest("A bulk delete takes at most \(Self.maxBulkItems) keys; this one has more")
        ) { event in
            guard case .element(let index, let item) = event else { return }
            guard let key = item.stringValue ?? item["name"]?.stringValue else {
                throw APIError.badRequest("[\(index)]: expected a key name (string)")
            }
            do {
                try KVValidation.validateKey(key, for: .delete)
            } catch let error as KVError {
                throw APIError.badRequest("[\(index)]: \(error.message)")
            }
            keys.append(key)
        }
        try await kv.deleteEntries(keys)
        return Envelope.success(["successful_key_count": .int(Int64(keys.count)), "unsuccessful_keys": []])
    }

    func bulkGet(_ id: String, _ request: Request) async throws -> Response {
        let kv = try await namespace(id)
        var keys: [String] = []
        var members: [String: JSONValue] = [:]
        let shape = APIError.badRequest("The request body must be a JSON object with an array \"keys\"")
        let hasKeys = try await readElements(
            of: request, limit: Self.maxBulkGetBodyBytes,
            reader: JSONElementReader(arrayMember: "keys", maxElements: .max),
            wrongShape: shape
        ) { event in
            switch event {
            case .element(let index, let k):
                guard let s = k.stringValue else { throw APIError.badRequest("keys[\(index)]: expected a string") }
                do {
                    try KVValidation.validateKey(s, for: .getBulk)
                } catch let error as KVError {
                    throw APIError(error, prefix: "keys[\(index)]: ")
                }
                keys.append(s)
                // The key past the limit ends the read with the service's own error.
                if keys.count > KVLimits.maxBulkKeys { try KVValidation.validateBulkKeys(keys) }
            case .member(let name, let value):
                members[name] = value
            }
        }
        guard hasKeys else { throw shape }
        let type = try KVValidation.bulkType(members["type"]?.stringValue ?? "text")
        var withMetadata = false
        switch members["withMetadata"] {
        case nil, .null: break
        case .bool(let b): withMetadata = b
        default: throw APIError.badRequest("\"withMetadata\" must be true or false")
        }
        try KVValidation.validateBulkKeys(keys)
        let entries = try await kv.readEntries(keys)
        try KVValidation.validateBulkSize(entries.values.reduce(0) { $0 + $1.value.count })
        var values: [String: JSONValue] = [:]
        for key in keys {
            guard let entry = entries[key] else {
                values[key] = .null
                continue
            }
            let value: JSONValue
            if type == .json {
                guard let parsed = try? JSONValue(parsing: entry.value) else { throw KVValidation.nonJSONBulkValue }
                value = parsed
            } else {
                value = .string(String(decoding: entry.value, as: UTF8.self))
            }
            if withMetadata {
                var o: [String: JSONValue] = ["value": value, "metadata": entry.metadata ?? .null]
                if let e = entry.expiration { o["expiration"] = .int(e) }
                values[key] = .object(o)
            } else {
                values[key] = value
            }
        }
        return Envelope.success(["values": .object(values)])
    }
}

/// One item of a bulk write: `{key, value, expiration?, expiration_ttl?, metadata?, base64?}`.
enum BulkItem {
    static func write(_ item: JSONValue, clock: any KVClock) throws -> (key: String, write: KVWrite) {
        guard let object = item.objectValue else { throw APIError.badRequest("each item must be a JSON object") }
        guard let key = object["key"]?.stringValue else { throw APIError.badRequest("\"key\" must be a string") }
        guard let text = object["value"]?.stringValue else { throw APIError.badRequest("\"value\" must be a string") }
        var value = Array(text.utf8)
        if case .bool(true) = object["base64"] {
            guard let data = Data(base64Encoded: text) else {
                throw APIError.badRequest("\"value\" is not valid base64")
            }
            value = Array(data)
        }
        func int(_ name: String) throws -> Int64? {
            switch object[name] {
            case nil, .null: return nil
            case .int(let i): if let n = WholeNumber.within(i) { return n }
            case .double(let d): if let n = WholeNumber.parse(d) { return n }
            case .string(let s): if let n = WholeNumber.parse(s) { return n }
            default: break
            }
            throw APIError.badRequest("\"\(name)\" must be a number between -9e15 and 9e15")
        }
        let metadata = object["metadata"].flatMap { $0 == .null ? nil : $0 }
        let options = KVPutOptions(
            expiration: try int("expiration"), expirationTtl: try int("expiration_ttl"), metadata: metadata)
        return (key, try KVValidation.validatePut(key, value: value, options: options, clock: clock))
    }
}
