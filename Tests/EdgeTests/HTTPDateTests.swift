import Edge
import EdgeHTTP
import Foundation
import HTTPTypes
import Testing

/// IMF-fixdate formatting and parsing for `Expires`.
@Suite struct HTTPDateTests {
    static let dates: [(seconds: Double, text: String)] = [
        (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
        (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
        (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
        (1_767_225_600, "Thu, 01 Jan 2026 00:00:00 GMT"),
        (2_147_483_648, "Tue, 19 Jan 2038 03:14:08 GMT"),
        (4_102_444_799, "Thu, 31 Dec 2099 23:59:59 GMT"),
        (253_402_300_799, "Fri, 31 Dec 9999 23:59:59 GMT"),
        (-1, "Wed, 31 Dec 1969 23:59:59 GMT"),
    ]

    @Test(arguments: dates)
    func formatAndParseRoundTrip(seconds: Double, text: String) {
        #expect(HTTPDate.format(Date(timeIntervalSince1970: seconds)) == text)
        #expect(HTTPDate.parse(text) == Date(timeIntervalSince1970: seconds))
    }

    @Test func fractionsOfASecondRoundDown() {
        #expect(HTTPDate.format(Date(timeIntervalSince1970: 1.999)) == "Thu, 01 Jan 1970 00:00:01 GMT")
        #expect(HTTPDate.format(Date(timeIntervalSince1970: -0.5)) == "Wed, 31 Dec 1969 23:59:59 GMT")
    }

    static let variants: [(text: String, seconds: Double)] = [
        ("Sun, 06-Nov-1994 08:49:37 GMT", 784_111_777),
        ("Sunday, 06-Nov-94 08:49:37 GMT", 784_111_777),
        ("Sun, 6 Nov 1994 08:49:37 GMT", 784_111_777),
        ("Thu, 01 Jan 01 00:00:00 GMT", 978_307_200),
    ]

    @Test(arguments: variants)
    func parseAcceptsCommonVariants(text: String, seconds: Double) {
        #expect(HTTPDate.parse(text) == Date(timeIntervalSince1970: seconds))
    }

    static let invalid = [
        "", "garbage", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49 GMT", "Sun, 06 Nov 1994 08:49:37:00 GMT", "Sun, xx Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov yyyy 08:49:37 GMT", "Sun, 06 Nov 1994 aa:49:37 GMT", "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 nov 1994 08:49:37 GMT extra", "Sat, 31 Feb 2002 00:00:00 GMT", "Fri, 29 Feb 2019 00:00:00 GMT",
    ]

    @Test(arguments: invalid)
    func parseRejectsWhatIsNotADate(text: String) {
        #expect(HTTPDate.parse(text) == nil)
    }
}
