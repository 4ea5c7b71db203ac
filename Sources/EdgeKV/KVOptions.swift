/// Options of a read (`get`, `getWithMetadata`).
public struct KVGetOptions: Sendable, Hashable {
    /// How long an edge location may cache the result, in seconds; at least ``KVLimits/minCacheTtl``.
    /// Validated by every backend; the consistency simulator honours it.
    public var cacheTtl: Int?

    /// Creates read options.
    public init(cacheTtl: Int? = nil) { self.cacheTtl = cacheTtl }
}

/// Options of a write.
public struct KVPutOptions: Sendable, Hashable {
    /// Absolute expiry in seconds since the epoch; at least 60 s in the future.
    public var expiration: Int64?
    /// Expiry relative to now, in seconds; at least 60. Wins over ``expiration`` when both are given.
    public var expirationTtl: Int64?
    /// Any JSON value stored with the key; at most 1024 bytes serialised.
    public var metadata: JSONValue?

    /// Creates write options.
    public init(expiration: Int64? = nil, expirationTtl: Int64? = nil, metadata: JSONValue? = nil) {
        self.expiration = expiration
        self.expirationTtl = expirationTtl
        self.metadata = metadata
    }
}

/// Options of a `list`.
public struct KVListOptions: Sendable, Hashable {
    /// Only keys starting with these exact characters (`%`, `_` and `\` are ordinary characters).
    public var prefix: String?
    /// At most this many keys (default and maximum 1000; a value below 1 means the default, as in workerd).
    public var limit: Int?
    /// The cursor of the previous page.
    public var cursor: String?

    /// Creates list options.
    public init(prefix: String? = nil, limit: Int? = nil, cursor: String? = nil) {
        self.prefix = prefix
        self.limit = limit
        self.cursor = cursor
    }
}

/// A stored value with what was stored beside it.
public struct KVEntry: Sendable, Hashable {
    /// The value's bytes.
    public var value: [UInt8]
    /// The metadata, or nil when none was stored.
    public var metadata: JSONValue?
    /// Absolute expiry in seconds since the epoch, or nil.
    public var expiration: Int64?

    /// Creates an entry.
    public init(value: [UInt8], metadata: JSONValue? = nil, expiration: Int64? = nil) {
        self.value = value
        self.metadata = metadata
        self.expiration = expiration
    }
}

/// A value read together with its metadata (`getWithMetadata`).
public struct KVValueWithMetadata<Value: Sendable>: Sendable {
    /// The value, in the requested type.
    public var value: Value
    /// The metadata, or nil when none was stored.
    public var metadata: JSONValue?
    /// Where the read was served from, when the backend reports it (`CF-Cache-Status`); else nil.
    public var cacheStatus: String?

    /// Creates a result.
    public init(value: Value, metadata: JSONValue?, cacheStatus: String? = nil) {
        self.value = value
        self.metadata = metadata
        self.cacheStatus = cacheStatus
    }
}

extension KVValueWithMetadata: Equatable where Value: Equatable {}

/// One key of a `list` page.
public struct KVListKey: Sendable, Hashable, Codable {
    /// The key.
    public var name: String
    /// Absolute expiry in seconds since the epoch (also for keys written with a TTL); absent when none.
    public var expiration: Int64?
    /// The metadata; absent when none.
    public var metadata: JSONValue?

    /// Creates a list entry.
    public init(name: String, expiration: Int64? = nil, metadata: JSONValue? = nil) {
        self.name = name
        self.expiration = expiration
        self.metadata = metadata
    }
}

/// One page of a `list`.
public struct KVListResult: Sendable, Hashable, Codable {
    /// The keys, sorted by their UTF-8 bytes.
    public var keys: [KVListKey]
    /// True on the last page. A page may be empty while this is still false: loop on this flag.
    public var listComplete: Bool
    /// The cursor of the next page; present only when ``listComplete`` is false.
    public var cursor: String?
    /// The cache status the backend reported, if any.
    public var cacheStatus: String?

    /// Creates a page.
    public init(keys: [KVListKey], listComplete: Bool, cursor: String?, cacheStatus: String? = nil) {
        self.keys = keys
        self.listComplete = listComplete
        self.cursor = cursor
        self.cacheStatus = cacheStatus
    }

    enum CodingKeys: String, CodingKey {
        case keys
        case listComplete = "list_complete"
        case cursor
        case cacheStatus
    }
}

/// A validated write, as a backend receives it.
public struct KVWrite: Sendable, Hashable {
    /// The value's bytes (at most ``KVLimits/maxValueBytes``).
    public var value: [UInt8]
    /// The metadata (at most ``KVLimits/maxMetadataBytes`` serialised), or nil.
    public var metadata: JSONValue?
    /// The validated TTL in seconds, when the caller gave one (it wins over ``expiration``).
    public var expirationTtl: Int64?
    /// The validated absolute expiry in seconds, when the caller gave one and no TTL.
    public var expiration: Int64?

    /// Creates a write. Backends receive these from ``KVValidation/validatePut(_:value:options:clock:)``.
    public init(value: [UInt8], metadata: JSONValue? = nil, expirationTtl: Int64? = nil, expiration: Int64? = nil) {
        self.value = value
        self.metadata = metadata
        self.expirationTtl = expirationTtl
        self.expiration = expiration
    }

    /// The absolute expiry in milliseconds for a write made at `nowMilliseconds`, or nil for no expiry.
    /// (Saturating: an absurdly far expiry means "never" rather than an overflow.)
    public func expirationMilliseconds(at nowMilliseconds: Int64) -> Int64? {
        if let expirationTtl { return nowMilliseconds.saturatingAdd(Int64.milliseconds(seconds: expirationTtl)) }
        if let expiration { return Int64.milliseconds(seconds: expiration) }
        return nil
    }
}

/// A validated `list` request, as a backend receives it.
public struct KVListRequest: Sendable, Hashable {
    /// The literal prefix ("" for all keys).
    public var prefix: String
    /// The page size, 1…1000.
    public var limit: Int
    /// The previous page's cursor, if any (opaque; the backend decodes its own).
    public var cursor: String?

    /// Creates a request.
    public init(prefix: String = "", limit: Int = KVLimits.maxListLimit, cursor: String? = nil) {
        self.prefix = prefix
        self.limit = limit
        self.cursor = cursor
    }
}

/// The value types a bulk read may ask for.
public enum KVBulkType: String, Sendable, Hashable {
    /// Values as text.
    case text
    /// Values parsed as JSON; a non-JSON value fails the whole read.
    case json
}
