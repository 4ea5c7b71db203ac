import Edge
import Foundation
import Testing

/// Cookies as they are on the wire: what a client's jar holds and sends, and what `Set-Cookie` carries.
@Suite struct CookieWireTests {
    @Test("raw pairs keep quotes and percent escapes, trim spaces and tabs, and keep a name's first value")
    func rawPairs() {
        var cookies: [String: String] = [:]
        CookieParser.parseRawFirstWins(#" a = "q%20v" ;b=x%2;\#tc=1=2; nameonly; =v; a=second"#, into: &cookies)
        #expect(cookies == ["a": #""q%20v""#, "b": "x%2", "c": "1=2"])
        CookieParser.parseRawFirstWins("c=later; d=4", into: &cookies)
        #expect(cookies["c"] == "1=2")
        #expect(cookies["d"] == "4")
    }

    @Test("the decoded parse of the same header unquotes and percent-decodes")
    func decodedDiffers() {
        #expect(CookieParser.parseFirstWins(#"a="q%20v""#) == ["a": "q v"])
    }

    @Test("a Cookie header joins the pairs in order, values as given")
    func header() {
        #expect(CookieParser.header([("b", "2"), ("a", "x%20y")]) == "b=2; a=x%20y")
        #expect(CookieParser.header([]) == "")
        var back: [String: String] = [:]
        CookieParser.parseRawFirstWins(CookieParser.header([("b", "2"), ("a", #""q""#)]), into: &back)
        #expect(back == ["b": "2", "a": #""q""#])
    }

    @Test("a Set-Cookie header this package writes parses back to its parts")
    func setCookieRoundTrip() throws {
        let written = try SetCookie(
            name: "session", value: "a b",
            options: CookieOptions(maxAge: 300, path: "/app", httpOnly: true, secure: true, sameSite: .strict))
        let parsed = try #require(ParsedSetCookie(written.headerValue))
        #expect(parsed.name == "session")
        #expect(parsed.value == written.encodedValue)
        #expect(parsed.maxAge == 300 && parsed.path == "/app" && parsed.sameSite == "Strict")
        #expect(parsed.httpOnly && parsed.secure)
        #expect(!parsed.deletes(nowMilliseconds: 0))
        let deletion = try SetCookie(name: "session", value: "", options: CookieOptions(maxAge: 0))
        #expect(try #require(ParsedSetCookie(deletion.headerValue)).deletes(nowMilliseconds: 0))
    }
}
