/// What happened (or, under `--dry-run`, would happen) to one key.
public enum SyncAction: String, Sendable, Hashable {
    /// Copied to a destination that did not have it.
    case added
    /// Copied over a different value, metadata or expiration.
    case changed
    /// Removed from the destination because the source does not have it (`--delete`).
    case deleted
    /// Already equal on both sides.
    case unchanged
    /// Left alone: it expires within 60 s (KV would refuse the write) or vanished while syncing.
    case skipped
    /// Could not be written or deleted, even after retries.
    case failed
}

/// One key's outcome, reported as the sync goes.
public struct SyncEvent: Sendable, Hashable {
    /// The key.
    public var key: String
    /// What happened to it.
    public var action: SyncAction
    /// The value bytes copied (0 for anything but `added` and `changed`).
    public var bytes: Int
    /// Why, for `skipped` and `failed`.
    public var reason: String?

    /// Creates an event.
    public init(key: String, action: SyncAction, bytes: Int = 0, reason: String? = nil) {
        self.key = key
        self.action = action
        self.bytes = bytes
        self.reason = reason
    }
}

/// A key that could not be synced, with the reason.
public struct SyncFailure: Sendable, Hashable, CustomStringConvertible {
    /// The key.
    public var key: String
    /// Why (the API's error, or that it reported the key as unsuccessful).
    public var reason: String

    /// Creates a failure.
    public init(key: String, reason: String) {
        self.key = key
        self.reason = reason
    }

    /// `key: reason`.
    public var description: String { "\(key): \(reason)" }
}

/// The totals of a sync.
public struct SyncReport: Sendable, Hashable {
    /// Keys copied to a destination that lacked them.
    public var added = 0
    /// Keys copied over a different entry.
    public var changed = 0
    /// Keys removed from the destination.
    public var deleted = 0
    /// Keys already equal.
    public var unchanged = 0
    /// Keys left alone (expiring within 60 s, or gone from the source while syncing).
    public var skipped = 0
    /// Value bytes copied (or that would be copied under `--dry-run`).
    public var bytes = 0
    /// Keys that failed after retries.
    public var failures: [SyncFailure] = []

    /// Creates an empty report.
    public init() {}

    /// `added N, changed N, deleted N, unchanged N, skipped N` — the line `edgekv sync` ends with.
    public var summary: String { summary(dryRun: false) }

    /// ``summary``, or under `--dry-run` `would add N, would change N, would delete N, unchanged N, skipped N`.
    public func summary(dryRun: Bool) -> String {
        let changes =
            dryRun
            ? "would add \(added), would change \(changed), would delete \(deleted)"
            : "added \(added), changed \(changed), deleted \(deleted)"
        return "\(changes), unchanged \(unchanged), skipped \(skipped)"
    }

    mutating func record(_ event: SyncEvent) {
        switch event.action {
        case .added: added += 1
        case .changed: changed += 1
        case .deleted: deleted += 1
        case .unchanged: unchanged += 1
        case .skipped: skipped += 1
        case .failed: failures.append(SyncFailure(key: event.key, reason: event.reason ?? "failed"))
        }
        bytes += event.bytes
    }
}
