import Edge
import EdgeKV
import EdgeReplay
import Foundation
import Testing

@Suite("CookieJar")
struct CookieJarTests {
    let clock = ManualClock(seconds: Fixture.defaultNow)
    var now: Int64 { clock.nowMilliseconds() }

    /// An `Expires` value `seconds` from the manual clock's reading.
    func expires(in seconds: Int64) -> String {
        HTTPDate.format(Date(timeIntervalSince1970: Double(now / 1000 + seconds)))
    }

    @Test("an empty jar sends no Cookie header")
    func empty() {
        #expect(CookieJar().header(nowMilliseconds: now) == nil)
    }

    @Test("a Set-Cookie without expiry is sent back until deleted")
    func sessionCookie() {
        var jar = CookieJar()
        jar.apply(setCookie: "session=abc; Path=/; HttpOnly; SameSite=Lax", nowMilliseconds: now)
        #expect(jar.header(nowMilliseconds: now) == "session=abc")
        clock.advance(seconds: 10 * 365 * 86_400)
        #expect(jar.header(nowMilliseconds: now) == "session=abc")
        #expect(jar.value("session", nowMilliseconds: now) == "abc")
    }

    @Test("Max-Age counts from when the cookie arrived, on the virtual clock")
    func maxAge() {
        var jar = CookieJar()
        jar.apply(setCookie: "session=abc; Max-Age=60", nowMilliseconds: now)
        clock.advance(seconds: 59)
        #expect(jar.header(nowMilliseconds: now) == "session=abc")
        clock.advance(milliseconds: 999)
        #expect(jar.value("session", nowMilliseconds: now) == "abc")
        clock.advance(milliseconds: 1)
        #expect(jar.header(nowMilliseconds: now) == nil, "gone at exactly 60 s")
        #expect(jar.value("session", nowMilliseconds: now) == nil)
    }

    @Test("Expires in the future holds until then; in the past it is not stored and deletes the cookie")
    func expires() {
        var jar = CookieJar()
        jar.apply(setCookie: "a=1; Expires=\(expires(in: 120))", nowMilliseconds: now)
        clock.advance(seconds: 119)
        #expect(jar.header(nowMilliseconds: now) == "a=1")
        clock.advance(seconds: 1)
        #expect(jar.header(nowMilliseconds: now) == nil)

        jar.apply(setCookie: "b=2", nowMilliseconds: now)
        jar.apply(setCookie: "b=3; Expires=\(expires(in: -1))", nowMilliseconds: now)
        #expect(jar.header(nowMilliseconds: now) == nil, "an Expires in the past deletes b")
        jar.apply(setCookie: "c=4; Expires=\(expires(in: 0))", nowMilliseconds: now)
        #expect(jar.header(nowMilliseconds: now) == nil, "an Expires of now is already past")
    }

    @Test("Max-Age wins over Expires; attribute names are case-insensitive")
    func maxAgeWins() {
        var jar = CookieJar()
        jar.apply(setCookie: "a=1; expires=\(expires(in: -3600)); MAX-AGE=30", nowMilliseconds: now)
        #expect(jar.header(nowMilliseconds: now) == "a=1")
        jar.apply(setCookie: "b=1; Expires=\(expires(in: 3600)); Max-Age=0", nowMilliseconds: now)
        #expect(jar.value("b", nowMilliseconds: now) == nil)
        clock.advance(seconds: 30)
        #expect(jar.header(nowMilliseconds: now) == nil)
    }

    @Test("a Max-Age that is not a number is ignored, Expires then applies")
    func invalidMaxAge() {
        var jar = CookieJar()
        jar.apply(setCookie: "a=1; Max-Age=soon; Expires=\(expires(in: 10))", nowMilliseconds: now)
        #expect(jar.header(nowMilliseconds: now) == "a=1")
        clock.advance(seconds: 10)
        #expect(jar.header(nowMilliseconds: now) == nil)
    }

    @Test("a huge Max-Age keeps the cookie instead of overflowing")
    func hugeMaxAge() {
        var jar = CookieJar()
        jar.apply(setCookie: "a=1; Max-Age=99999999999999999", nowMilliseconds: now)
        jar.apply(setCookie: "b=2; Max-Age=9223372036854775807", nowMilliseconds: now)
        clock.advance(seconds: 100 * 365 * 86_400)
        #expect(jar.header(nowMilliseconds: now) == "a=1; b=2")
    }

    @Test("deletion: Max-Age=0, a negative Max-Age, and a fixture edit to null")
    func deletion() {
        var jar = CookieJar()
        jar.apply(setCookie: "a=1", nowMilliseconds: now)
        jar.apply(setCookie: "b=2", nowMilliseconds: now)
        jar.apply(setCookie: "c=3", nowMilliseconds: now)
        jar.apply(setCookie: "a=; Max-Age=0; Path=/", nowMilliseconds: now)
        jar.apply(setCookie: "b=gone; Max-Age=-1", nowMilliseconds: now)
        #expect(jar.header(nowMilliseconds: now) == "c=3")
        jar.set("c", nil)
        #expect(jar.header(nowMilliseconds: now) == nil)
        jar.apply(setCookie: "never=; Max-Age=0", nowMilliseconds: now)
        jar.set("never", nil)
        #expect(jar.header(nowMilliseconds: now) == nil, "deleting what the jar does not hold is a no-op")
    }

    @Test("values are sent verbatim, from Set-Cookie and from fixture edits")
    func verbatimValues() {
        var jar = CookieJar()
        jar.set("raw", "%%%garbage%%%")
        jar.apply(setCookie: #"quoted="a b"; Path=/"#, nowMilliseconds: now)
        jar.apply(setCookie: "eq=a=b=c", nowMilliseconds: now)
        jar.apply(setCookie: "enc=%7B%22x%22%3A1%7D", nowMilliseconds: now)
        jar.set("empty", "")
        #expect(
            jar.header(nowMilliseconds: now)
                == #"raw=%%%garbage%%%; quoted="a b"; eq=a=b=c; enc=%7B%22x%22%3A1%7D; empty="#)
        #expect(jar.value("eq", nowMilliseconds: now) == "a=b=c")
    }

    @Test("header order is arrival order; an update keeps a cookie's place, an expired one goes to the end")
    func headerOrder() {
        var jar = CookieJar()
        jar.apply(setCookie: "a=1", nowMilliseconds: now)
        jar.apply(setCookie: "b=1; Max-Age=10", nowMilliseconds: now)
        jar.set("c", "1")
        #expect(jar.header(nowMilliseconds: now) == "a=1; b=1; c=1")
        jar.apply(setCookie: "a=2", nowMilliseconds: now)
        jar.set("b", "2")
        #expect(jar.header(nowMilliseconds: now) == "a=2; b=2; c=1", "updates keep their place, as in a browser")
        jar.apply(setCookie: "b=3; Max-Age=10", nowMilliseconds: now)
        clock.advance(seconds: 10)
        #expect(jar.header(nowMilliseconds: now) == "a=2; c=1")
        jar.apply(setCookie: "b=4", nowMilliseconds: now)
        #expect(jar.header(nowMilliseconds: now) == "a=2; c=1; b=4", "a new cookie after the old one expired")
        jar.set("a", nil)
        jar.set("a", "5")
        #expect(jar.header(nowMilliseconds: now) == "c=1; b=4; a=5")
    }

    @Test("a Set-Cookie without a name is ignored")
    func malformed() {
        var jar = CookieJar()
        jar.apply(setCookie: "novalue", nowMilliseconds: now)
        jar.apply(setCookie: "=x", nowMilliseconds: now)
        jar.apply(setCookie: "", nowMilliseconds: now)
        #expect(jar.header(nowMilliseconds: now) == nil)
    }

    @Test("ParsedSetCookie reads every attribute the expectations check")
    func parsedSetCookie() throws {
        let c = try #require(
            ParsedSetCookie("session=v%20x; Max-Age=300; Path=/app; SameSite=Strict; HttpOnly; Secure; Domain=x.test"))
        #expect(c.name == "session" && c.value == "v%20x" && c.maxAge == 300 && c.path == "/app")
        #expect(c.sameSite == "Strict" && c.httpOnly && c.secure && c.expires == nil)
        #expect(!c.deletes(nowMilliseconds: now))
        let plain = try #require(ParsedSetCookie("a=b"))
        #expect(!plain.httpOnly && !plain.secure && plain.maxAge == nil && plain.path == nil)
        #expect(try #require(ParsedSetCookie("a=; Max-Age=0")).deletes(nowMilliseconds: now))
        #expect(try #require(ParsedSetCookie("a=; Expires=\(expires(in: -1))")).deletes(nowMilliseconds: now))
        #expect(try !#require(ParsedSetCookie("a=; Expires=\(expires(in: 1))")).deletes(nowMilliseconds: now))
    }
}
