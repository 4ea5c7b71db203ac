import EdgeKV

/// What each location has read (hits and misses), kept for the cache TTL and bounded in count and size.
///
/// Locations are named by clients (a header of `edgekv serve`), so nothing here may grow with them: an entry leaves
/// when its time is up, a location with no entries leaves with its last one, and past ``maxPerLocation`` entries at
/// one location, ``maxTotal`` in all, or ``maxBytes`` of values, keys and names in all, the oldest entry leaves first.
///
/// Every entry lives for the same TTL, so the order entries were cached in is also the order they expire in: the
/// queues below keep that order, expired entries are dropped from their front on every read and write (amortised
/// constant time per entry), and eviction takes the front as well. Queue slots of entries that left some other way
/// are skipped when they reach the front, and compacted away once they outnumber the live ones.
struct ReadCache {
    typealias Key = ConsistencySimulator.Key

    /// A cached read: the entry (nil for a miss) and until when it may be served, in epoch milliseconds.
    struct Entry {
        var value: KVEntry?
        var until: Int64
        var serial: UInt64
        /// Roughly what the entry holds in memory, in bytes.
        var size: Int
    }

    struct Slot {
        let location: String
        let key: Key
        let serial: UInt64
    }

    struct Location {
        var entries: [Key: Entry] = [:]
        /// The location's entries in the order they were cached (for eviction within the location).
        var order = FIFOQueue<(key: Key, serial: UInt64)>()
    }

    /// The most entries one location keeps.
    let maxPerLocation: Int
    /// The most entries all locations keep together.
    let maxTotal: Int
    /// The most bytes all locations keep together (``Entry/size``).
    let maxBytes: Int
    private(set) var locations: [String: Location] = [:]
    /// Every entry in the order it was cached.
    private var order = FIFOQueue<Slot>()
    /// The number of entries, over all locations.
    private(set) var count = 0
    /// The sum of the entries' sizes.
    private(set) var bytes = 0
    private var nextSerial: UInt64 = 0

    init(maxPerLocation: Int, maxTotal: Int, maxBytes: Int) {
        self.maxPerLocation = max(1, maxPerLocation)
        self.maxTotal = max(1, maxTotal)
        self.maxBytes = maxBytes
    }

    /// The entry `location` has cached for `key`, if it is still fresh at `now`.
    mutating func entry(at location: String, _ key: Key, now: Int64) -> Entry? {
        sweep(now: now)
        guard let entry = locations[location]?.entries[key] else { return nil }
        if entry.until > now { return entry }
        // A clock that went back can leave an expired entry behind fresher ones.
        remove(key, at: location)
        return nil
    }

    /// Caches `value` (nil for a miss) for `key` at `location` until `until`, evicting the oldest entries past the
    /// bounds.
    mutating func insert(_ value: KVEntry?, for key: Key, at location: String, until: Int64, now: Int64) {
        sweep(now: now)
        remove(key, at: location)
        let serial = nextSerial
        nextSerial += 1
        var slot = locations.removeValue(forKey: location) ?? Location()
        // Metadata is at most 1 KiB of JSON; its parsed form is counted at that.
        let size =
            (value?.value.count ?? 0) + (value?.metadata == nil ? 0 : KVLimits.maxMetadataBytes) + key.bytes.count
            + location.utf8.count + 64
        slot.entries[key] = Entry(value: value, until: until, serial: serial, size: size)
        slot.order.append((key, serial))
        while slot.entries.count > maxPerLocation, let oldest = slot.order.removeFirst() {
            if let entry = slot.entries[oldest.key], entry.serial == oldest.serial {
                slot.entries[oldest.key] = nil
                count -= 1
                bytes -= entry.size
            }
        }
        if slot.order.count > 2 * slot.entries.count + 16 {
            let live = slot.entries
            slot.order.removeAll { live[$0.key]?.serial != $0.serial }
        }
        locations[location] = slot
        order.append(Slot(location: location, key: key, serial: serial))
        count += 1
        bytes += size
        while count > maxTotal || bytes > maxBytes, let oldest = order.removeFirst() {
            if isLive(oldest) { remove(oldest.key, at: oldest.location) }
        }
        if order.count > 2 * count + 1024 {
            let locations = locations
            order.removeAll { locations[$0.location]?.entries[$0.key]?.serial != $0.serial }
        }
    }

    /// Forgets what `location` has cached for `key`.
    mutating func remove(_ key: Key, at location: String) {
        guard let entry = locations[location]?.entries.removeValue(forKey: key) else { return }
        count -= 1
        bytes -= entry.size
        if locations[location]?.entries.isEmpty == true {
            locations[location] = nil
            // A dictionary keeps its capacity: let go of it once most locations have left.
            if locations.capacity > 64, locations.count * 4 < locations.capacity {
                locations = Dictionary(uniqueKeysWithValues: locations.map { ($0.key, $0.value) })
            }
        }
    }

    /// Drops every entry whose time is up at `now`.
    mutating func sweep(now: Int64) {
        while let first = order.first {
            if isLive(first) {
                guard let until = locations[first.location]?.entries[first.key]?.until, until <= now else { return }
                remove(first.key, at: first.location)
            }
            _ = order.removeFirst()
        }
    }

    func isLive(_ slot: Slot) -> Bool {
        locations[slot.location]?.entries[slot.key]?.serial == slot.serial
    }
}

/// A first-in, first-out queue over an array: appends at the back, amortised constant-time removal at the front,
/// and storage let go of as the queue drains.
struct FIFOQueue<Element> {
    private var items: [Element] = []
    private var head = 0

    /// The number of elements.
    var count: Int { items.count - head }

    /// The oldest element.
    var first: Element? { head < items.count ? items[head] : nil }

    /// Adds `element` at the back.
    mutating func append(_ element: Element) { items.append(element) }

    /// Removes and returns the oldest element, or nil when empty.
    mutating func removeFirst() -> Element? {
        guard head < items.count else { return nil }
        let element = items[head]
        head += 1
        if head == items.count {
            items = []
            head = 0
        } else if head >= 1024, head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return element
    }

    /// Removes the elements that match, keeping the order of the others.
    mutating func removeAll(where shouldRemove: (Element) -> Bool) {
        items = items[head...].filter { !shouldRemove($0) }
        head = 0
    }
}
