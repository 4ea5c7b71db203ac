import EdgeKV
import EdgeKVTestSupport
import EdgeReplay
import Foundation
import Testing

@Suite("Fixture encoding")
struct FixtureEncodingTests {
    /// `fixture` after being encoded and read back, without the file it came from.
    static func roundTrip(_ fixture: Fixture) throws -> Fixture {
        try Fixture.parse(fixture.encoded)
    }

    static func withoutFile(_ fixture: Fixture) -> Fixture {
        var fixture = fixture
        fixture.file = nil
        return fixture
    }

    @Test("every bundled fixture reads back as the same fixture once encoded", arguments: try Repo.fixtureFiles())
    func bundledFixturesRoundTrip(_ path: String) throws {
        let fixture = Self.withoutFile(try Fixture.load(path: path))
        let again = try Self.roundTrip(fixture)
        #expect(again == fixture)
        #expect(again.encoded == fixture.encoded)
    }

    @Test("every field of every step kind survives encoding")
    func everyFieldRoundTrips() throws {
        let fixture = Fixture(
            name: "all fields", app: "other", now: 1_800_000_000, vars: ["GREETING": "hi", "EMPTY": ""],
            kv: [
                "SESSIONS": [
                    Fixture.SeedEntry(
                        key: "text", value: Array("välue".utf8), metadata: ["n": 1], expiration: 1_900_000_000),
                    Fixture.SeedEntry(key: "binary", value: [0xFF, 0x00, 0xFE]),
                ],
                "EMPTY": [],
            ],
            consistency: Fixture.Consistency(propagation: 60, cacheTtl: 30, writeLimit: true),
            steps: [
                .request(
                    Fixture.RequestStep(
                        method: "POST", path: "/login?next=%2F",
                        headers: [("Accept", "application/json"), ("X-Trace", "1")],
                        body: Array(#"{"n":[1,2.5,null,true],"user":"ada"}"#.utf8), isJSON: true, location: "LHR"),
                    Fixture.Expectation(
                        status: 200, headers: ["content-type": "application/json"], json: ["ok": true],
                        bodyContains: "ok",
                        cookies: [
                            "session": Fixture.CookieExpectation(
                                set: true, changed: true, httpOnly: true, secure: false, sameSite: "Lax", path: "/",
                                maxAge: 3600),
                            "old": Fixture.CookieExpectation(cleared: true),
                        ])),
                .request(
                    Fixture.RequestStep(method: "PUT", path: "/blob", body: [0x00, 0xC3, 0x28], truncated: 70_000),
                    Fixture.Expectation(body: "stored")),
                .request(
                    Fixture.RequestStep(path: "/text", body: Array("plain text".utf8)), Fixture.Expectation(status: 204)
                ),
                .advance(90),
                .cookies(["session": "abc", "gone": nil]),
                .expectKV([
                    "SESSIONS": Fixture.KVExpectation(
                        count: 2, has: ["text"], lacks: ["missing"], values: ["text": "välue"]),
                    "EMPTY": Fixture.KVExpectation(count: 0),
                ]),
            ])
        let again = try Self.roundTrip(fixture)
        #expect(again == fixture)
        #expect(again.encoded == fixture.encoded)
    }

    @Test("bodies are written as json, text or base64, whichever the bytes allow")
    func bodyForms() throws {
        let json = Fixture.RequestStep(path: "/", body: Array(#"{"a":1}"#.utf8), isJSON: true).jsonValue
        #expect(json["json"] == ["a": 1])
        let text = Fixture.RequestStep(path: "/", body: Array(#"{"a":1}"#.utf8)).jsonValue
        #expect(text["body"] == .string(#"{"a":1}"#))
        let binary = Fixture.RequestStep(path: "/", body: [0xFF]).jsonValue
        #expect(binary["base64"] == "/w==")
        #expect(binary["body"] == nil && binary["json"] == nil)
        let seed = Fixture.SeedEntry(key: "k", value: [0xFF]).jsonValue
        #expect(seed["value"] == "/w==" && seed["base64"] == true)
    }

    @Test("an encoded fixture is laid out like a recording: two-space indent, name first, a newline at the end")
    func layout() throws {
        let fixture = Fixture(
            name: "n", steps: [.request(Fixture.RequestStep(path: "/"), Fixture.Expectation(status: 200)), .advance(5)])
        let expected = """
            {
              "name": "n",
              "steps": [
                {
                  "expect": {
                    "status": 200
                  },
                  "request": {
                    "method": "GET",
                    "path": "/"
                  }
                },
                {
                  "advance": 5
                }
              ]
            }

            """
        #expect(String(decoding: fixture.encoded, as: UTF8.self) == expected)
    }
}

@Suite("Fixture writer")
struct FixtureWriterTests {
    static let steps: [Fixture.Step] = [
        .request(
            Fixture.RequestStep(method: "POST", path: "/a", headers: [("X-A", "1")], body: Array("hi".utf8)),
            Fixture.Expectation(status: 201, json: ["id": 1], cookies: ["s": Fixture.CookieExpectation(set: true)])),
        .request(Fixture.RequestStep(path: "/b"), Fixture.Expectation(status: 404, body: "Not found")),
        .cookies(["s": nil]),
    ]

    static func contents(_ path: String) throws -> [UInt8] {
        Array(try #require(FileManager.default.contents(atPath: path)))
    }

    @Test("after every step the file is the encoded fixture of the steps so far")
    func fileIsTheFixtureAfterEveryStep() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("rec.json")
        let writer = try FixtureWriter(path: path, name: "recorded \"run\"")
        #expect(writer.steps == 0)
        #expect(try Self.contents(path) == Fixture(name: "recorded \"run\"", steps: []).encoded)
        for n in 1...Self.steps.count {
            try writer.append(Self.steps[n - 1])
            let fixture = Fixture(name: "recorded \"run\"", steps: Array(Self.steps.prefix(n)))
            #expect(writer.steps == n)
            #expect(try Self.contents(path) == fixture.encoded)
            #expect(try Fixture.parse(Self.contents(path)) == fixture)
        }
    }

    @Test("the file is created owner-only; an existing one is truncated and its mode tightened")
    func ownerOnly() throws {
        let dir = try TemporaryDirectory()
        let fresh = dir.file("fresh.json")
        _ = try FixtureWriter(path: fresh, name: "f")
        let freshMode = try #require(try FileManager.default.attributesOfItem(atPath: fresh)[.posixPermissions] as? Int)
        #expect(freshMode == 0o600)

        let existing = dir.file("existing.json")
        try Data(repeating: UInt8(ascii: "x"), count: 10_000).write(to: URL(fileURLWithPath: existing))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: existing)
        let writer = try FixtureWriter(path: existing, name: "e")
        try writer.append(.advance(1))
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: existing)[.posixPermissions] as? Int)
        #expect(mode == 0o600)
        #expect(try Self.contents(existing) == Fixture(name: "e", steps: [.advance(1)]).encoded)
    }

    @Test("a file that cannot be created gives the system's reason")
    func unwritable() throws {
        let dir = try TemporaryDirectory()
        #expect(throws: FixtureWriteError.self) { _ = try FixtureWriter(path: dir.file("missing/rec.json"), name: "x") }
        do {
            _ = try FixtureWriter(path: dir.file("missing/rec.json"), name: "x")
        } catch let error as FixtureWriteError {
            #expect(error.description == "No such file or directory")
        }
    }

    @Test("steps appended from many tasks are each written whole")
    func concurrentAppends() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("rec.json")
        let writer = try FixtureWriter(path: path, name: "many")
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<40 { group.addTask { try? writer.append(.advance(Int64(i))) } }
        }
        let fixture = try Fixture.parse(Self.contents(path))
        let seconds = fixture.steps.compactMap { step -> Int64? in
            if case .advance(let s) = step { return s }
            return nil
        }
        #expect(seconds.sorted() == Array(0..<40))
        #expect(writer.steps == 40)
    }
}
