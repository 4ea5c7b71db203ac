/// The whole numbers the API reads from query strings and bulk items.
///
/// Clients render numbers as they please (`10`, `10.0`, Python's `1795979976.5`), so a fractional part is accepted
/// and rounded down. Magnitudes are bounded so that later arithmetic (`now + ttl` in milliseconds, `page × per_page`)
/// cannot overflow: a huge, infinite or NaN value is refused, never trapped on.
enum WholeNumber {
    /// The largest magnitude accepted (9 × 10¹⁵; × 1000 for milliseconds still fits an `Int64`).
    static let bound: Int64 = 9_000_000_000_000_000

    /// `text` as a whole number, or nil when it is not a finite number within ±``bound``.
    static func parse(_ text: String) -> Int64? {
        if let i = Int64(text) { return within(i) }
        guard let d = Double(text) else { return nil }
        return parse(d)
    }

    /// `d` rounded down, or nil when it is not finite or not within ±``bound``.
    static func parse(_ d: Double) -> Int64? {
        guard d.isFinite, abs(d) < Double(bound) else { return nil }
        return Int64(d.rounded(.down))
    }

    /// `i`, or nil when it is not within ±``bound``.
    static func within(_ i: Int64) -> Int64? {
        -bound < i && i < bound ? i : nil
    }
}
