extension Int64 {
    /// `self + other`, clamped to `Int64.min...Int64.max` instead of trapping: times and counters built from input
    /// (a cookie, a stored entry, a fixture) must never be able to stop the process.
    @inlinable package func saturatingAdd(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    /// `self - other`, clamped to `Int64.min...Int64.max` instead of trapping.
    @inlinable package func saturatingSubtract(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other > 0 ? .min : .max) : difference
    }

    /// `self * other`, clamped to `Int64.min...Int64.max` instead of trapping.
    @inlinable package func saturatingMultiply(_ other: Int64) -> Int64 {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? ((self < 0) == (other < 0) ? .max : .min) : product
    }

    /// `seconds` in milliseconds, clamped instead of trapping.
    @inlinable package static func milliseconds(seconds: some BinaryInteger) -> Int64 {
        Int64(clamping: seconds).saturatingMultiply(1000)
    }

    /// The whole seconds in `milliseconds`, rounded down (towards the past for times before 1970), without the
    /// overflow of `(ms - 999) / 1000`.
    @inlinable package static func floorSeconds(milliseconds: Int64) -> Int64 {
        let (quotient, remainder) = milliseconds.quotientAndRemainder(dividingBy: 1000)
        return remainder < 0 ? quotient - 1 : quotient
    }
}

extension Int {
    /// `self + 1`, staying at `Int.max` instead of trapping: a counter read from input never stops the process.
    @inlinable package var incrementedSaturating: Int { self == .max ? .max : self + 1 }
}
