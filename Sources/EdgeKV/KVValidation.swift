/// The checks every KV operation goes through, once for all backends, with workerd's and the KV service's texts.
public enum KVValidation {
    /// Checks a key as the Workers binding does before it reaches the service.
    /// - Throws: ``KVError`` — `TypeError`s for `""`, `"."` and `".."`, and `414 UTF-8 encoded length of N exceeds
    ///   key length limit of 512.` for a long key.
    public static func validateKey(_ key: String, for operation: KVOperation) throws {
        if key.isEmpty { throw KVError.typeError(operation, "Key name cannot be empty.") }
        if key == "." { throw KVError.typeError(operation, "\".\" is not allowed as a key name.") }
        if key == ".." { throw KVError.typeError(operation, "\"..\" is not allowed as a key name.") }
        let length = key.utf8.count
        if length > KVLimits.maxKeyBytes {
            throw KVError(operation, status: 414, lengthMessage(length))
        }
    }

    static func lengthMessage(_ length: Int) -> String {
        "UTF-8 encoded length of \(length) exceeds key length limit of \(KVLimits.maxKeyBytes)."
    }

    /// Checks a `cacheTtl`.
    /// - Throws: ``KVError`` `400 Invalid cache_ttl of N. Cache TTL must be at least 30.`
    public static func validateCacheTtl(_ cacheTtl: Int?, for operation: KVOperation) throws {
        guard let cacheTtl else { return }
        if cacheTtl < KVLimits.minCacheTtl {
            throw KVError(
                operation, status: 400,
                "Invalid cache_ttl of \(cacheTtl). Cache TTL must be at least \(KVLimits.minCacheTtl).")
        }
    }

    /// Checks a value's length.
    /// - Throws: ``KVError`` `413 Value length of N exceeds limit of 26214400.`
    public static func validateValueLength(_ length: Int) throws {
        if length > KVLimits.maxValueBytes {
            throw KVError(.put, status: 413, "Value length of \(length) exceeds limit of \(KVLimits.maxValueBytes).")
        }
    }

    /// Checks metadata's serialised length.
    /// - Throws: ``KVError`` `413 Metadata length of N exceeds limit of 1024.`
    public static func validateMetadata(_ metadata: JSONValue?) throws {
        guard let metadata else { return }
        let length = metadata.serialized.utf8.count
        if length > KVLimits.maxMetadataBytes {
            throw KVError(
                .put, status: 413, "Metadata length of \(length) exceeds limit of \(KVLimits.maxMetadataBytes).")
        }
    }

    /// Checks the expiry options of a write against `nowSeconds`. The TTL wins when both are given.
    /// - Returns: the validated TTL and absolute expiry (at most one of them is non-nil).
    /// - Throws: ``KVError`` with the KV service's `Invalid expiration_ttl …` / `Invalid expiration …` texts.
    public static func validateExpiry(
        expiration: Int64?, expirationTtl: Int64?, nowSeconds: Int64
    ) throws -> (ttl: Int64?, expiration: Int64?) {
        if let ttl = expirationTtl {
            if ttl <= 0 {
                throw KVError(
                    .put, status: 400, "Invalid expiration_ttl of \(ttl). Please specify integer greater than 0.")
            }
            if ttl < KVLimits.minExpirationTtl {
                throw KVError(
                    .put, status: 400,
                    "Invalid expiration_ttl of \(ttl). Expiration TTL must be at least \(KVLimits.minExpirationTtl).")
            }
            return (ttl, nil)
        }
        if let expiration {
            if expiration <= nowSeconds {
                throw KVError(
                    .put, status: 400,
                    "Invalid expiration of \(expiration). Please specify integer greater than the current number of "
                        + "seconds since the UNIX epoch.")
            }
            if expiration < nowSeconds.saturatingAdd(KVLimits.minExpirationTtl) {
                throw KVError(
                    .put, status: 400,
                    "Invalid expiration of \(expiration). Expiration times must be at least "
                        + "\(KVLimits.minExpirationTtl) seconds in the future.")
            }
            return (nil, expiration)
        }
        return (nil, nil)
    }

    /// Checks a whole write and turns it into what a backend stores.
    /// - Throws: ``KVError`` for an invalid key, value size, metadata size or expiry.
    public static func validatePut(
        _ key: String, value: [UInt8], options: KVPutOptions, clock: any KVClock
    ) throws -> KVWrite {
        try validateKey(key, for: .put)
        try validateValueLength(value.count)
        let expiry = try validateExpiry(
            expiration: options.expiration, expirationTtl: options.expirationTtl, nowSeconds: clock.nowSeconds())
        try validateMetadata(options.metadata)
        return KVWrite(
            value: value, metadata: options.metadata, expirationTtl: expiry.ttl, expiration: expiry.expiration)
    }

    /// Checks `list` options and fills in the defaults.
    /// - Throws: ``KVError`` `400 Invalid key_count_limit of N. Please specify an integer less than 1000.` or
    ///   `414` for a prefix longer than 512 bytes.
    public static func validateList(_ options: KVListOptions) throws -> KVListRequest {
        var limit = KVLimits.maxListLimit
        if let requested = options.limit, requested > 0 {
            if requested > KVLimits.maxListLimit {
                throw KVError(
                    .get, status: 400,
                    "Invalid key_count_limit of \(requested). Please specify an integer less than "
                        + "\(KVLimits.maxListLimit).")
            }
            limit = requested
        }
        let prefix = options.prefix ?? ""
        let length = prefix.utf8.count
        if length > KVLimits.maxKeyBytes { throw KVError(.get, status: 414, lengthMessage(length)) }
        return KVListRequest(prefix: prefix, limit: limit, cursor: options.cursor)
    }

    /// Checks the key count of a bulk read.
    /// - Throws: ``KVError`` `GET_BULK failed: 400 You can request a maximum of 100 keys` (or the minimum of 1).
    public static func validateBulkKeys(_ keys: [String]) throws {
        if keys.isEmpty { throw KVError(.getBulk, status: 400, "You must request a minimum of 1 key") }
        if keys.count > KVLimits.maxBulkKeys {
            throw KVError(.getBulk, status: 400, "You can request a maximum of \(KVLimits.maxBulkKeys) keys")
        }
    }

    /// Parses a bulk read's `type` as the service does.
    /// - Throws: ``KVError`` `400 "x" is not a valid type. Use "json" or "text"`.
    public static func bulkType(_ name: String) throws -> KVBulkType {
        guard let type = KVBulkType(rawValue: name) else {
            throw KVError(.getBulk, status: 400, "\"\(name)\" is not a valid type. Use \"json\" or \"text\"")
        }
        return type
    }

    /// Checks the total size of a bulk read's values.
    /// - Throws: ``KVError`` `413 Total size of request exceeds the limit of 25MB`.
    public static func validateBulkSize(_ total: Int) throws {
        if total > KVLimits.maxBulkResponseBytes {
            throw KVError(.getBulk, status: 413, "Total size of request exceeds the limit of 25MB")
        }
    }

    /// The error a bulk `json` read gives when a value is not JSON.
    public static let nonJSONBulkValue = KVError(
        .getBulk, status: 400, "At least one of the requested keys corresponds to a non-json value")
}
