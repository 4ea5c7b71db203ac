import Foundation

/// IMF-fixdate formatting and parsing (`Thu, 01 Jan 1970 00:00:00 GMT`): cookies' `Expires`, `Retry-After`.
package enum IMFDate {
    static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Formats a date.
    package static func format(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var tm = tm()
        gmtime_r(&t, &tm)
        return String(
            format: "%@, %02d %@ %04d %02d:%02d:%02d GMT", days[Int(tm.tm_wday)], tm.tm_mday, months[Int(tm.tm_mon)],
            Int(tm.tm_year) + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec)
    }

    /// Parses an IMF-fixdate (also accepting `-` between date parts and two-digit years, as browsers do); nil when
    /// it is not one or names a time that does not exist (`32 Jan`, `31 Feb`, `24:00:00`, `08:60:00`).
    package static func parse(_ text: String) -> Date? {
        let parts = text.replacingOccurrences(of: "-", with: " ").split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]),
            let month = months.firstIndex(of: String(parts[2])), var year = Int(parts[3])
        else { return nil }
        if year < 100 { year += year < 70 ? 2000 : 1900 }
        let hms = parts[4].split(separator: ":").compactMap { Int($0) }
        guard hms.count == 3, (1...31).contains(day), (0...23).contains(hms[0]), (0...59).contains(hms[1]),
            (0...59).contains(hms[2]), (0...9999).contains(year)
        else { return nil }
        var tm = tm()
        tm.tm_year = Int32(year - 1900)
        tm.tm_mon = Int32(month)
        tm.tm_mday = Int32(day)
        tm.tm_hour = Int32(hms[0])
        tm.tm_min = Int32(hms[1])
        tm.tm_sec = Int32(hms[2])
        let seconds = timegm(&tm)
        // timegm normalises out-of-range fields (31 Feb becomes 3 Mar); such a date does not exist.
        guard tm.tm_mday == Int32(day), tm.tm_mon == Int32(month) else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }
}
