import Foundation
import Synchronization

/// The source of "now" for expiry decisions.
///
/// Every expiry check in EdgeKV (KV entries, session expiry) reads a clock, so tests and fixtures can move
/// time with a ``ManualClock`` instead of sleeping.
public protocol KVClock: Sendable {
    /// Milliseconds since the UNIX epoch.
    func nowMilliseconds() -> Int64
}

extension KVClock {
    /// Whole seconds since the UNIX epoch (rounded down).
    public func nowSeconds() -> Int64 {
        Int64.floorSeconds(milliseconds: nowMilliseconds())
    }
}

/// The wall clock.
public struct SystemClock: KVClock {
    /// Creates the wall clock.
    public init() {}

    /// Milliseconds since the UNIX epoch, from the system's real-time clock.
    public func nowMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

/// A clock that only moves when told to: for tests and fixture replay.
public final class ManualClock: KVClock {
    private let ms: Mutex<Int64>

    /// Creates a clock standing at `seconds` since the epoch.
    public init(seconds: Int64) { ms = Mutex(Int64.milliseconds(seconds: seconds)) }

    /// Creates a clock standing at `milliseconds` since the epoch.
    public init(milliseconds: Int64) { ms = Mutex(milliseconds) }

    /// The current reading in milliseconds.
    public func nowMilliseconds() -> Int64 { ms.withLock { $0 } }

    /// Moves the clock forward (or back, with a negative value) by whole seconds, stopping at the ends of `Int64`.
    public func advance(seconds: Int64) { ms.withLock { $0 = $0.saturatingAdd(Int64.milliseconds(seconds: seconds)) } }

    /// Moves the clock by milliseconds.
    public func advance(milliseconds: Int64) { ms.withLock { $0 = $0.saturatingAdd(milliseconds) } }

    /// Sets the clock to `seconds` since the epoch.
    public func set(seconds: Int64) { ms.withLock { $0 = Int64.milliseconds(seconds: seconds) } }
}
