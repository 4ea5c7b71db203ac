import Edge
import EdgeHTTP
import EdgeKVTestSupport
import Foundation
import HTTPTypes
import Testing

/// `Set-Cookie` serialization: every attribute in a fixed order, validated names, values and attributes.
@Suite struct SetCookieTests {
    struct SerializeCase: Sendable, CustomTestStringConvertible {
        var name: String
        var value: String
        var options: CookieOptions
        var header: String

        var testDescription: String { header }
    }

    /// 2026-01-01T00:00:00Z.
    static let newYear = Date(timeIntervalSince1970: TimeInterval(testEpoch))

    static let serializeCases: [SerializeCase] = [
        SerializeCase(name: "sid", value: "abc", options: CookieOptions(), header: "sid=abc"),
        SerializeCase(name: "sid", value: "", options: CookieOptions(), header: "sid="),
        // Every attribute, in the `cookie` package's order whatever order they were given in.
        SerializeCase(
            name: "sid", value: "a b",
            options: CookieOptions(
                maxAge: 3600, domain: "example.com", path: "/", expires: newYear, httpOnly: true, secure: true,
                partitioned: true, priority: .high, sameSite: .strict),
            header: "sid=a%20b; Max-Age=3600; Domain=example.com; Path=/; Expires=Thu, 01 Jan 2026 00:00:00 GMT; "
                + "HttpOnly; Secure; Partitioned; Priority=High; SameSite=Strict"),
        SerializeCase(name: "a", value: "1", options: CookieOptions(maxAge: 0), header: "a=1; Max-Age=0"),
        SerializeCase(name: "a", value: "1", options: CookieOptions(maxAge: -1), header: "a=1; Max-Age=-1"),
        SerializeCase(
            name: "a", value: "1", options: CookieOptions(domain: ".example.com"), header: "a=1; Domain=.example.com"),
        SerializeCase(name: "a", value: "1", options: CookieOptions(path: "/app/x"), header: "a=1; Path=/app/x"),
        SerializeCase(
            name: "a", value: "1", options: CookieOptions(expires: Date(timeIntervalSince1970: 0)),
            header: "a=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT"),
        SerializeCase(name: "a", value: "1", options: CookieOptions(httpOnly: true), header: "a=1; HttpOnly"),
        SerializeCase(name: "a", value: "1", options: CookieOptions(secure: true), header: "a=1; Secure"),
        SerializeCase(name: "a", value: "1", options: CookieOptions(partitioned: true), header: "a=1; Partitioned"),
        SerializeCase(name: "a", value: "1", options: CookieOptions(priority: .low), header: "a=1; Priority=Low"),
        SerializeCase(name: "a", value: "1", options: CookieOptions(priority: .medium), header: "a=1; Priority=Medium"),
        SerializeCase(name: "a", value: "1", options: CookieOptions(sameSite: .lax), header: "a=1; SameSite=Lax"),
        SerializeCase(
            name: "a", value: "1", options: CookieOptions(secure: true, sameSite: SameSite.none),
            header: "a=1; Secure; SameSite=None"),
        SerializeCase(
            name: "a", value: "1", options: CookieOptions(path: "/", httpOnly: true, sameSite: .lax),
            header: "a=1; Path=/; HttpOnly; SameSite=Lax"),
        // Values are written with encodeURIComponent unless told otherwise.
        SerializeCase(
            name: "json", value: #"{"user":"alice"}"#, options: CookieOptions(),
            header: "json=%7B%22user%22%3A%22alice%22%7D"),
        SerializeCase(
            name: "raw", value: "abc%20def", options: CookieOptions(encodeValue: false), header: "raw=abc%20def"),
        SerializeCase(
            name: "raw", value: "2moJ.4A8uH5QB.%7B%22count%22%3A1%7D", options: CookieOptions(encodeValue: false),
            header: "raw=2moJ.4A8uH5QB.%7B%22count%22%3A1%7D"),
        SerializeCase(
            name: "raw", value: #""quoted""#, options: CookieOptions(encodeValue: false), header: #"raw="quoted""#),
        // Names are RFC 7230 tokens, including the odd characters tokens allow.
        SerializeCase(name: "__Host-sid", value: "1", options: CookieOptions(), header: "__Host-sid=1"),
        SerializeCase(name: "!#$%&'*+-.^_`|~", value: "1", options: CookieOptions(), header: "!#$%&'*+-.^_`|~=1"),
    ]

    @Test(arguments: serializeCases)
    func serialize(_ serializeCase: SerializeCase) throws {
        let cookie = try SetCookie(name: serializeCase.name, value: serializeCase.value, options: serializeCase.options)
        #expect(cookie.headerValue == serializeCase.header)
        #expect(cookie.description == serializeCase.header)
        #expect(cookie.name == serializeCase.name)
        #expect(cookie.value == serializeCase.value)
        // The wire value is the header's name=value part.
        let pair = serializeCase.header.split(separator: ";", maxSplits: 1)[0]
        #expect(cookie.encodedValue == String(pair.dropFirst(serializeCase.name.count + 1)))
    }

    @Test(arguments: serializeCases)
    func templateWritesWhatTheInitializerWrites(_ serializeCase: SerializeCase) throws {
        let template = try SetCookieTemplate(name: serializeCase.name, options: serializeCase.options)
        // One template, several values: each cookie is the same as one made from scratch.
        for value in [serializeCase.value, "otherValue", ""] {
            let fromTemplate = try template.cookie(value: value)
            let direct = try SetCookie(name: serializeCase.name, value: value, options: serializeCase.options)
            #expect(fromTemplate == direct)
        }
        #expect(try template.cookie(value: serializeCase.value).headerValue == serializeCase.header)
    }

    @Test func templateChecksNameAndAttributesOnceAndValuesEachTime() throws {
        #expect(throws: CookieError.self) { try SetCookieTemplate(name: "a b") }
        #expect(throws: CookieError.self) { try SetCookieTemplate(name: "sid", options: CookieOptions(path: "/a;b")) }
        let raw = try SetCookieTemplate(name: "sid", options: Self.raw)
        let error = #expect(throws: CookieError.self) { try raw.cookie(value: "a;b") }
        #expect(error?.description == "invalid value for cookie sid: it must consist of cookie-octets")
        #expect(try raw.cookie(value: "abc").headerValue == "sid=abc")
    }

    struct InvalidCase: Sendable, CustomTestStringConvertible {
        var name: String
        var value: String
        var options: CookieOptions
        var message: String

        var testDescription: String { message }
    }

    static let raw = CookieOptions(encodeValue: false)

    static let invalidCases: [InvalidCase] =
        [
            "", "a b", "a=b", "a;b", "a,b", "a\"b", "(a)", "a/b", "a@b", "a:b", "[a]", "a?b", "a{b}", "a\\b", "ä",
            "a\u{7F}", "a\n", "a\tb", "\u{0}",
        ].map { name in
            InvalidCase(
                name: name, value: "v", options: CookieOptions(),
                message: "invalid cookie name \(String(reflecting: name)): it must be an RFC 7230 token")
        }
        + [
            "a b", "a;b", "a,b", "a\"b", "a\\b", "ä", "\u{7F}", "\u{0}", "x\r\nSet-Cookie: evil=1", "\"a", "a\"",
            "\"a\"b\"",
        ].map { value in
            InvalidCase(
                name: "sid", value: value, options: raw,
                message: "invalid value for cookie sid: it must consist of cookie-octets")
        }
        + ([
            "/a;b", "/a\r\nSet-Cookie: evil=1", "/\u{0}", "/\u{7F}", "/ä", "/\t",
        ] as [String]).map { path in
            InvalidCase(
                name: "sid", value: "v", options: CookieOptions(path: path),
                message: "invalid Path for cookie sid: \(String(reflecting: path))")
        }
        + (["example.com; Secure", "exa\nmple.com", "ä.example", "\u{1}"] as [String]).map { domain in
            InvalidCase(
                name: "sid", value: "v", options: CookieOptions(domain: domain),
                message: "invalid Domain for cookie sid: \(String(reflecting: domain))")
        }

    @Test(arguments: invalidCases)
    func invalidCookiesThrowAClearError(_ invalid: InvalidCase) {
        let error = #expect(throws: CookieError.self) {
            try SetCookie(name: invalid.name, value: invalid.value, options: invalid.options)
        }
        #expect(error?.description == invalid.message)
    }

    static let encodings: [(String, String)] = [
        ("", ""),
        ("abcXYZ019", "abcXYZ019"),
        ("-_.!~*'()", "-_.!~*'()"),
        ("a b", "a%20b"),
        (";,/?:@&=+$#", "%3B%2C%2F%3F%3A%40%26%3D%2B%24%23"),
        ("%", "%25"),
        ("%41", "%2541"),
        ("\"\\<>[]{}|^`", "%22%5C%3C%3E%5B%5D%7B%7D%7C%5E%60"),
        ("\u{0}\u{1F}\u{7F}", "%00%1F%7F"),
        ("\r\n\t", "%0D%0A%09"),
        ("é", "%C3%A9"),
        ("e\u{301}", "e%CC%81"),
        ("✓", "%E2%9C%93"),
        ("😀", "%F0%9F%98%80"),
        ("\u{10FFFF}", "%F4%8F%BF%BF"),
    ]

    @Test(arguments: encodings)
    func encodeURIComponentMatchesJavaScript(input: String, encoded: String) throws {
        #expect(SetCookie.encodeURIComponent(input) == encoded)
        // And the parser reads back what the serializer wrote.
        let cookie = try SetCookie(name: "c", value: input)
        #expect(CookieParser.parseFirstWins(cookie.headerValue)["c"] == input)
    }
}
