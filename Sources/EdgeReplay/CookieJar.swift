import Edge
import Foundation

/// A browser-like cookie jar for one origin: stores `Set-Cookie`, honours `Max-Age`, `Expires` and deletion
/// against the virtual clock, and sends the live cookies back in a `Cookie` header.
public struct CookieJar: Sendable {
    struct Entry: Sendable {
        var value: String
        var expiresAtMilliseconds: Int64?
    }

    private var entries: [(name: String, entry: Entry)] = []

    /// An empty jar.
    public init() {}

    /// The raw value held for `name` at `now`, if any.
    public func value(_ name: String, nowMilliseconds: Int64) -> String? {
        guard let e = entries.first(where: { $0.name == name })?.entry else { return nil }
        if let expires = e.expiresAtMilliseconds, expires <= nowMilliseconds { return nil }
        return e.value
    }

    /// Sets a cookie to a raw value (no expiry), or drops it with nil. A cookie already held keeps its place in
    /// the `Cookie` header.
    public mutating func set(_ name: String, _ value: String?) {
        guard let value else {
            entries.removeAll { $0.name == name }
            return
        }
        store(name, Entry(value: value, expiresAtMilliseconds: nil))
    }

    /// Applies one `Set-Cookie` header value received at `now`. Like a browser, an update keeps the cookie's place
    /// (its creation time) in the `Cookie` header; a cookie that had already expired is replaced at the end.
    public mutating func apply(setCookie header: String, nowMilliseconds: Int64) {
        guard let parsed = ParsedSetCookie(header) else { return }
        if parsed.deletes(nowMilliseconds: nowMilliseconds) {
            entries.removeAll { $0.name == parsed.name }
            return
        }
        var expires: Int64?
        if let maxAge = parsed.maxAge {
            // Saturating: a server's `Max-Age=99999999999999999` means "for ever", not an overflow.
            let (ms, overflow) = maxAge.multipliedReportingOverflow(by: 1000)
            let (at, overflow2) = nowMilliseconds.addingReportingOverflow(ms)
            expires = overflow || overflow2 ? Int64.max : at
        } else if let date = parsed.expires {
            expires = Int64(date.timeIntervalSince1970 * 1000)
        }
        entries.removeAll {
            $0.name == parsed.name && $0.entry.expiresAtMilliseconds.map { $0 <= nowMilliseconds } == true
        }
        store(parsed.name, Entry(value: parsed.value, expiresAtMilliseconds: expires))
    }

    private mutating func store(_ name: String, _ entry: Entry) {
        if let index = entries.firstIndex(where: { $0.name == name }) {
            entries[index].entry = entry
        } else {
            entries.append((name, entry))
        }
    }

    /// The `Cookie` header to send at `now`, or nil when no cookie is live.
    public func header(nowMilliseconds: Int64) -> String? {
        let live = entries.filter { e in e.entry.expiresAtMilliseconds.map { $0 > nowMilliseconds } ?? true }
        guard !live.isEmpty else { return nil }
        return CookieParser.header(live.map { ($0.name, $0.entry.value) })
    }
}
