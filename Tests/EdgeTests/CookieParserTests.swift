import Edge
import EdgeHTTP
import EdgeKVTestSupport
import Foundation
import HTTPTypes
import Testing

/// `Cookie` request headers, parsed like the `cookie` package (v1) that hattip uses — and never a crash or a 500.
@Suite struct CookieParserTests {
    struct ParseCase: Sendable, CustomTestStringConvertible {
        var header: String
        var pairs: [[String]]
        var cookies: [String: String]

        init(_ header: String, _ pairs: [[String]], firstWins: [String: String]? = nil) {
            self.header = header
            self.pairs = pairs
            var cookies: [String: String] = [:]
            for pair in pairs where cookies[pair[0]] == nil { cookies[pair[0]] = pair[1] }
            self.cookies = firstWins ?? cookies
        }

        var testDescription: String { header.debugDescription }
    }

    static let parseCases: [ParseCase] = [
        ParseCase("", []),
        ParseCase("a=1", [["a", "1"]]),
        ParseCase("a=1; b=2", [["a", "1"], ["b", "2"]]),
        ParseCase("a=1;b=2", [["a", "1"], ["b", "2"]]),
        // First occurrence wins.
        ParseCase(
            "a=1; a=2; b=3; a=4", [["a", "1"], ["a", "2"], ["b", "3"], ["a", "4"]], firstWins: ["a": "1", "b": "3"]),
        // Whitespace (spaces and tabs) around names and values is trimmed; inside it is kept.
        ParseCase("  a = 1 ;\tb\t=\t2\t;c=x y", [["a", "1"], ["b", "2"], ["c", "x y"]]),
        // One pair of surrounding double quotes is removed.
        ParseCase(#"a="quoted value"; b="""#, [["a", "quoted value"], ["b", ""]]),
        ParseCase(#"a="unterminated; b=x""#, [["a", #""unterminated"#], ["b", #"x""#]]),
        ParseCase(#"a=""x"""#, [["a", #""x""#]]),
        ParseCase(#"a="%E2%9C%93""#, [["a", "✓"]]),
        // Percent-decoding like decodeURIComponent, once.
        ParseCase(
            "a=%E2%9C%93; b=a%20b; c=%2520; d=%3B%3D", [["a", "✓"], ["b", "a b"], ["c", "%20"], ["d", ";="]]),
        ParseCase("a=%F0%9F%98%80", [["a", "😀"]]),
        ParseCase("a=x+y", [["a", "x+y"]]),
        // Bad percent-encoding keeps the raw value.
        ParseCase(
            "a=%zz; b=100%; c=%E2%9C; d=%C3%28; e=ok%2",
            [
                ["a", "%zz"], ["b", "100%"], ["c", "%E2%9C"], ["d", "%C3%28"], ["e", "ok%2"],
            ]),
        ParseCase("a=%ED%A0%80", [["a", "%ED%A0%80"]]),  // an encoded UTF-16 surrogate is not UTF-8
        // Pairs without `=`, and empty names, are skipped.
        ParseCase("flag; a=1; other", [["a", "1"]]),
        ParseCase("=v; a=1; =", [["a", "1"]]),
        ParseCase("a=; b=2", [["a", ""], ["b", "2"]]),
        ParseCase("a==b=", [["a", "=b="]]),
        ParseCase(";;; a=1;;;b=2;", [["a", "1"], ["b", "2"]]),
        ParseCase(";", []),
        ParseCase("    ", []),
        // Commas do not separate cookies (RFC 6265).
        ParseCase("a=1, b=2", [["a", "1, b=2"]]),
        ParseCase("ä=ö; 😀=🍪", [["ä", "ö"], ["😀", "🍪"]]),
        // Control bytes and other garbage are kept as they are; nothing breaks.
        ParseCase("\u{1}\u{2}=x\u{7F}; b=\u{0}", [["\u{1}\u{2}", "x\u{7F}"], ["b", "\u{0}"]]),
        ParseCase("a=1\r\n; b=2", [["a", "1\r\n"], ["b", "2"]]),
        // `;` separates even where a combining mark follows it, as in the JavaScript parser.
        ParseCase("a=1;\u{301}b=2", [["a", "1"], ["\u{301}b", "2"]]),
        ParseCase("a=\u{301}", [["a", "\u{301}"]]),
    ]

    @Test(arguments: parseCases)
    func parse(_ parseCase: ParseCase) {
        let pairs = CookieParser.parse(parseCase.header).map { [$0.name, $0.value] }
        #expect(pairs == parseCase.pairs)
        #expect(CookieParser.parseFirstWins(parseCase.header) == parseCase.cookies)
        // Looking one name up gives what the whole parse gives for it.
        for name in Set(parseCase.pairs.map { $0[0] }).union(["absent", ""]) {
            #expect(CookieParser.firstValue(named: name, in: parseCase.header) == parseCase.cookies[name], "\(name)")
        }
    }

    /// A context for a request with these `Cookie` header fields, in order.
    static func context(cookieHeaders: String...) -> Context {
        var headers = HTTPFields()
        for value in cookieHeaders { headers.append(HTTPField(name: .cookie, value: value)) }
        return Context(platform: Platform(env: Env()), request: Request(method: .get, "/", headers: headers))
    }

    @Test func contextJoinsCookieHeadersFirstWins() {
        let context = Self.context(cookieHeaders: "a=1; b=2", "b=3; c=%20x")
        #expect(context.cookies == ["a": "1", "b": "2", "c": " x"])
        #expect(Context(platform: Platform(env: Env()), request: Request(method: .get, "/")).cookies.isEmpty)
    }

    @Test func contextLooksOneCookieUpFirstWinsBeforeAndAfterTheFullParse() {
        let lookedUp = Self.context(cookieHeaders: "a=1; b=2", "b=3; c=%20x; a=4")
        #expect(lookedUp.cookie("b") == "2")
        #expect(lookedUp.cookie("c") == " x")
        #expect(lookedUp.cookie("a") == "1")
        #expect(lookedUp.cookie("d") == nil)
        let parsed = Self.context(cookieHeaders: "a=1; b=2", "b=3; c=%20x; a=4")
        #expect(parsed.cookies.count == 3)
        for name in ["a", "b", "c", "d"] { #expect(parsed.cookie(name) == lookedUp.cookie(name)) }
    }

    @Test(arguments: parseCases.filter { !$0.header.unicodeScalars.contains { $0.value < 0x20 && $0 != "\t" } })
    func parseOverHTTP(_ parseCase: ParseCase) async throws {
        let runtime = EdgeRuntime(logger: quietLogger, handler: TestApp.handler)
        try await withServer(runtime) { server in
            let response = try await HTTPTestClient(port: server.port).send(
                raw: Array("GET /cookies HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCookie: ".utf8)
                    + Array(parseCase.header.utf8) + Array("\r\n\r\n".utf8))
            #expect(response.status == 200)
            // The field value loses the whitespace around it, as HTTP requires.
            let expected = CookieParser.parseFirstWins(
                parseCase.header.trimmingCharacters(in: .whitespaces))
            #expect(try response.json([String: String].self) == expected)
        }
    }

    /// Cookie headers no browser would send, as raw bytes. The server may refuse bytes HTTP forbids with a 400;
    /// it must never crash or answer 500, and it must keep serving.
    struct RawHeader: Sendable, CustomTestStringConvertible {
        var bytes: [UInt8]

        var testDescription: String { String(String(decoding: bytes, as: UTF8.self).debugDescription.prefix(60)) }
    }

    static let malformedHeaders: [RawHeader] =
        ([
            Array("Cookie: ;;;=;==;=a=".utf8),
            Array("Cookie: a=%".utf8),
            Array("Cookie: a=%E2%28%A1; b=%uD83D".utf8),
            Array(#"Cookie: """"""#.utf8),
            Array("Cookie:".utf8),
            Array("Cookie: a=1\r\nCookie: a=2; b=3".utf8),
            Array("Cookie: a=1; a=2; a=3".utf8),
            Array("Cookie: a=\u{7F}\u{1}b".utf8),
            Array("Cookie: a=\0b".utf8),
            Array("Cookie: a=\u{1B}[31mred".utf8),
            [UInt8]("Cookie: a=".utf8) + [0xFF, 0xFE, 0xC3, 0x28, 0x80],
            [UInt8]("Cookie: ".utf8) + [0xC3] + Array("=x".utf8),
            Array("Cookie: a=\tb\t".utf8),
            Array("Cookie: a=b\rc".utf8),
            Array("Cookie : a=1".utf8),
            Array(("Cookie: " + (0..<2000).map { "k\($0)=v\($0)" }.joined(separator: "; ")).utf8),
            Array(("Cookie: big=" + String(repeating: "%41", count: 3000)).utf8),
        ] as [[UInt8]]).map { RawHeader(bytes: $0) }

    @Test(arguments: malformedHeaders)
    func malformedCookieHeadersNeverCrashOr500(_ header: RawHeader) async throws {
        let runtime = EdgeRuntime(logger: quietLogger, handler: TestApp.handler)
        try await withServer(runtime) { server in
            let client = HTTPTestClient(port: server.port)
            let raw =
                Array("GET /cookies HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".utf8) + header.bytes
                + [13, 10, 13, 10]
            let response = try await client.send(raw: raw)
            #expect(response.status == 200 || response.status == 400, "status \(response.status): \(response.text)")
            if response.status == 200 { _ = try response.json([String: String].self) }
            // The server is still up and answers the next request normally.
            let next = try await client.request("GET", "/cookies", headers: [("Cookie", "ok=1")])
            #expect(next.status == 200)
            #expect(next.text == #"{"ok":"1"}"#)
        }
    }
}
