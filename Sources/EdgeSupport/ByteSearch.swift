#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finding a run of bytes in a byte buffer.
package enum ByteSearch {
    /// Whether `needle` occurs in `haystack`.
    package static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        firstIndex(of: needle, in: haystack, from: 0) != nil
    }

    /// Where `needle` first occurs in `haystack` at or after `start` (`memchr` for the first byte, `memcmp` for the
    /// rest, so a body of repeated bytes is still scanned quickly).
    package static func firstIndex(of needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, start >= 0, haystack.count - start >= needle.count else { return nil }
        return haystack.withUnsafeBufferPointer { h in
            needle.withUnsafeBufferPointer { n in
                guard let hBase = h.baseAddress, let nBase = n.baseAddress else { return nil }
                let last = h.count - n.count
                var i = start
                while i <= last {
                    guard let hit = memchr(hBase + i, Int32(n[0]), last - i + 1) else { return nil }
                    let at = hBase.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                    if memcmp(hBase + at, nBase, n.count) == 0 { return at }
                    i = at + 1
                }
                return nil
            }
        }
    }
}
