import EdgeKV
import Foundation
import Testing

@Suite struct JSONValueTests {
    @Test(arguments: [
        ("null", JSONValue.null), ("true", .bool(true)), ("false", .bool(false)), ("0", .int(0)), ("-12", .int(-12)),
        ("1.5", .double(1.5)), ("1e3", .double(1000)), ("\"a\\u00e9\\n\"", .string("aé\n")),
        ("\"\\ud83d\\ude00\"", .string("😀")), ("[1,[2,{}]]", .array([1, .array([2, .object([:])])])),
        (" {\"a\" : [ ] } ", .object(["a": .array([])])),
        ("9223372036854775807", .int(Int64.max)), ("9223372036854775808", .double(9_223_372_036_854_775_808)),
    ])
    func parses(_ text: String, _ expected: JSONValue) throws {
        #expect(try JSONValue(parsing: text) == expected)
    }

    @Test(arguments: [
        "", "nul", "[1,]", "{\"a\":1,}", "{a:1}", "01", "1.", "-", "\"unterminated", "\"tab\there\"", "[1] 2",
        "// comment\n1", "\"\\x\"", String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
    ])
    func rejects(_ text: String) {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: text) }
    }

    @Test func serialisesLikeJSONStringify() {
        let value: JSONValue = ["b": [1, 2.5, "x\"\\/\u{01}"], "a": .null, "c": true, "d": 1e21, "e": 3.0]
        #expect(value.serialized == #"{"a":null,"b":[1,2.5,"x\"\\/\u0001"],"c":true,"d":1e+21,"e":3}"#)
        #expect(JSONValue.string("line\nbreak\ttab").serialized == #""line\nbreak\ttab""#)
        #expect(JSONValue.double(.nan).serialized == "null")
    }

    @Test func roundTripsThroughCodable() throws {
        let value: JSONValue = ["n": 1, "f": 0.25, "s": "é", "l": [true, .null], "o": ["k": "v"]]
        let encoded = try JSONEncoderRoundTrip.encode(value)
        #expect(try JSONValue(parsing: encoded) == value)
    }
}

enum JSONEncoderRoundTrip {
    static func encode(_ value: JSONValue) throws -> [UInt8] { Array(try JSONEncoder().encode(value)) }
}
