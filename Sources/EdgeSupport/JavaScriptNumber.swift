/// Numbers as JavaScript writes them (`String(n)`, and `JSON.stringify` for finite numbers), the one rule for every
/// place EdgeKV prints a floating-point value a Worker would see.
///
/// Integral values print without exponent or fraction below 10²¹ (`1e15` is `1000000000000000`, `2**53` is
/// `9007199254740992`; above 2⁵³ the shortest digits are padded with zeros, as JavaScript does), small
/// magnitudes down to 10⁻⁶ print as decimals (`0.000001`), and everything else in exponent form without padding
/// (`1.5e-7`, `1e+21`).
package enum JavaScriptNumber {
    /// `String(value)` in JavaScript: `NaN`, `Infinity` and `-Infinity` for the non-finite values.
    package static func string(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        if value == 0 { return "0" }  // -0 too
        if value < 0 { return "-" + string(-value) }
        if value < 9_007_199_254_740_992, value == value.rounded() {
            return String(Int64(value))
        }
        let (digits, exponent) = shortestDigits(value)
        return layout(digits, exponent)
    }

    /// `JSON.stringify(value)`: as ``string(_:)``, with `null` for the non-finite values.
    package static func json(_ value: Double) -> String {
        value.isFinite ? string(value) : "null"
    }

    /// The shortest digits that read back as `value` (positive, finite) and `n` such that the value is
    /// `0.digits × 10ⁿ`; Swift's `description` and ECMAScript both pick the shortest, closest digits.
    private static func shortestDigits(_ value: Double) -> (digits: [UInt8], exponent: Int) {
        let text = Array(value.description.utf8)
        let e = text.firstIndex(of: UInt8(ascii: "e")) ?? text.count
        var exponent = 0
        if e < text.count {
            exponent = Int(String(decoding: text[(e + 1)...], as: UTF8.self)) ?? 0
        }
        var digits: [UInt8] = []
        var pointPosition: Int?
        for byte in text[..<e] {
            if byte == UInt8(ascii: ".") {
                pointPosition = digits.count
            } else {
                digits.append(byte)
            }
        }
        exponent += pointPosition ?? digits.count
        while digits.first == UInt8(ascii: "0") {
            digits.removeFirst()
            exponent -= 1
        }
        while digits.last == UInt8(ascii: "0") {
            digits.removeLast()
        }
        return (digits, exponent)
    }

    /// ECMAScript's Number::toString layout of `0.digits × 10ⁿ`.
    private static func layout(_ digits: [UInt8], _ n: Int) -> String {
        let k = digits.count
        let text = String(decoding: digits, as: UTF8.self)
        if k <= n, n <= 21 {
            return text + String(repeating: "0", count: n - k)
        }
        if 0 < n, n <= 21 {
            return String(decoding: digits[..<n], as: UTF8.self) + "." + String(decoding: digits[n...], as: UTF8.self)
        }
        if -6 < n, n <= 0 {
            return "0." + String(repeating: "0", count: -n) + text
        }
        let e = n - 1
        let exponent = (e < 0 ? "e-" : "e+") + String(abs(e))
        if k == 1 {
            return text + exponent
        }
        return String(decoding: digits[..<1], as: UTF8.self) + "." + String(decoding: digits[1...], as: UTF8.self)
            + exponent
    }
}
