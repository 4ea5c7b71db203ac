/// The limits of Workers KV, as the production service and workerd enforce them.
public enum KVLimits {
    /// Maximum key length in UTF-8 bytes.
    public static let maxKeyBytes = 512
    /// Maximum value length in bytes (25 MiB).
    public static let maxValueBytes = 26_214_400
    /// Maximum serialised metadata length in bytes.
    public static let maxMetadataBytes = 1024
    /// Minimum `expirationTtl`, and how far in the future an absolute `expiration` must be, in seconds.
    public static let minExpirationTtl: Int64 = 60
    /// Minimum `cacheTtl` in seconds.
    public static let minCacheTtl = 30
    /// Default `cacheTtl` in seconds.
    public static let defaultCacheTtl = 60
    /// Default and maximum `list` page size.
    public static let maxListLimit = 1000
    /// Maximum number of keys in one bulk read.
    public static let maxBulkKeys = 100
    /// Maximum total size of a bulk read's values (25 MB).
    public static let maxBulkResponseBytes = 25 * 1024 * 1024
}
