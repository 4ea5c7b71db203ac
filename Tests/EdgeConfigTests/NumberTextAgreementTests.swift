import EdgeConfig
import EdgeKV
import Testing

/// A number in a wrangler.json var and the same number in KV metadata print the same text: the one a Worker gets from
/// `String(n)` and `JSON.stringify(n)` (the expected texts are node's).
@Suite struct NumberTextAgreementTests {
    static let numbers: [(json: String, javaScript: String)] = [
        ("8080", "8080"), ("8080.0", "8080"), ("-0.0", "0"), ("0.1", "0.1"), ("123.456", "123.456"),
        // Integral values print in full below 1e21, past the old 1e15 and 2^53 cut-offs of the two printers.
        ("1e15", "1000000000000000"), ("-1e15", "-1000000000000000"), ("9007199254740992.0", "9007199254740992"),
        ("9007199254740994.0", "9007199254740994"), ("1e16", "10000000000000000"),
        ("1152921504606846976.0", "1152921504606847000"), ("1e20", "100000000000000000000"), ("1e21", "1e+21"),
        // Small magnitudes: decimals down to 1e-6, then an unpadded exponent.
        ("0.000001", "0.000001"), ("1e-7", "1e-7"), ("1.5e-7", "1.5e-7"), ("5e-324", "5e-324"),
        ("1.7976931348623157e308", "1.7976931348623157e+308"), ("2.5e25", "2.5e+25"),
    ]

    @Test(arguments: numbers)
    func configVarsAndJSONValuesPrintNumbersAlike(json: String, javaScript: String) throws {
        let config = try ConfigFixture.load(#"{ "vars": { "N": \#(json) } }"#, as: "wrangler.json")
        let metadata = try JSONValue(parsing: json)
        #expect(config.vars["N"] == javaScript)
        #expect(metadata.serialized == javaScript)
        #expect(
            try ConfigFixture.load(#"{ "vars": { "N": [\#(json)] } }"#, as: "wrangler.json").vars["N"]
                == JSONValue.array([metadata]).serialized)
    }

    /// The same dialect rules where both read strict JSON: what the KV reader refuses, the config reader refuses too,
    /// apart from the comments and trailing commas JSONC adds.
    @Test(arguments: ["01", "1.", "-", "[1] 2", "\"\\x\"", "{\"a\" 1}", "nul", "\"tab\there\""])
    func bothReadersRefuseTheSameText(_ text: String) {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue(parsing: text) }
        #expect(throws: ConfigError.self) {
            try ConfigFixture.load(#"{ "vars": { "N": \#(text) } }"#, as: "wrangler.json")
        }
    }
}
