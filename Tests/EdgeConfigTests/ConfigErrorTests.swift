import EdgeConfig
import Foundation
import Testing

/// A configuration file that must be rejected, and the exact error it must produce.
struct BadConfig: Sendable, CustomTestStringConvertible {
    let file: String
    let contents: String
    let code: ConfigError.Code
    let message: String

    var testDescription: String { message }
}

@Suite("Configuration errors name the file and the key")
struct ConfigErrorTests {
    static let invalidTOML: [BadConfig] = [
        BadConfig(
            file: "wrangler.toml",
            contents: """
                [[kv_namespaces]]
                binding = "A"
                id = "a"

                [[kv_namespaces]]
                binding = 42
                """,
            code: .invalidType,
            message: "wrangler.toml: kv_namespaces[1].binding: expected a string, got an integer"
        ),
        BadConfig(
            file: "wrangler.toml",
            contents: "[[kv_namespaces]]\nid = \"abc\"\n",
            code: .missingValue,
            message: #"wrangler.toml: kv_namespaces[0]: "binding" is required"#
        ),
        BadConfig(
            file: "wrangler.toml",
            contents: "[[kv_namespaces]]\nbinding = \"A\"\nid = \"\"\n",
            code: .emptyValue,
            message: "wrangler.toml: kv_namespaces[0].id: must not be empty"
        ),
        BadConfig(
            file: "wrangler.toml",
            contents: "[[kv_namespaces]]\nbinding = \"\"\n",
            code: .emptyValue,
            message: "wrangler.toml: kv_namespaces[0].binding: must not be empty"
        ),
        BadConfig(
            file: "wrangler.toml",
            contents: "[[kv_namespaces]]\nbinding = \"A\"\npreview_id = \"\"\n",
            code: .emptyValue,
            message: "wrangler.toml: kv_namespaces[0].preview_id: must not be empty"
        ),
        BadConfig(
            file: "wrangler.toml",
            contents: "[[kv_namespaces]]\nbinding = \"A\"\nid = 12\n",
            code: .invalidType,
            message: "wrangler.toml: kv_namespaces[0].id: expected a string, got an integer"
        ),
        BadConfig(
            file: "wrangler.toml",
            contents: "[[kv_namespaces]]\nbinding = \"A\"\npreview_id = true\n",
            code: .invalidType,
            message: "wrangler.toml: kv_namespaces[0].preview_id: expected a string, got a boolean"
        ),
        BadConfig(
            file: "wrangler.toml",
            contents: "[[kv_namespaces]]\nbinding = \"A\"\nremote = \"yes\"\n",
            code: .invalidType,
            message: "wrangler.toml: kv_namespaces[0].remote: expected a boolean, got a string"
        ),
        BadConfig(
            file: "wrangler.toml",
            contents: "kv_namespaces = \"SESSIONS\"\n",
            code: .invalidType,
            message: "wrangler.toml: kv_namespaces: expected an array, got a string"
        ),
        BadConfig(
            file: "wrangler.toml",
            contents: "kv_namespaces = [1.5]\n",
            code: .invalidType,
            message: "wrangler.toml: kv_namespaces[0]: expected a table, got a float"
        ),
        BadConfig(
            file: "wrangler.toml",
            contents: "name = 1\n",
            code: .invalidType,
            message: "wrangler.toml: name: expected a string, got an integer"
        ),
        BadConfig(
            file: "wrangler.toml",
            contents: "vars = [\"A\"]\n",
            code: .invalidType,
            message: "wrangler.toml: vars: expected a table, got an array"
        ),
        BadConfig(
            file: "wrangler.toml",
            contents: "env = 2025-01-01\n",
            code: .invalidType,
            message: "wrangler.toml: env: expected a table, got a date-time"
        ),
        BadConfig(
            file: "wrangler.toml",
            contents: "[env]\nstaging = \"yes\"\n",
            code: .invalidType,
            message: "wrangler.toml: env.staging: expected a table, got a string"
        ),
        BadConfig(
            file: "wrangler.toml",
            contents: "[env.staging]\nname = false\n",
            code: .invalidType,
            message: "wrangler.toml: env.staging.name: expected a string, got a boolean"
        ),
        BadConfig(
            file: "wrangler.toml",
            contents: "[env.staging]\nvars = 3\n",
            code: .invalidType,
            message: "wrangler.toml: env.staging.vars: expected a table, got an integer"
        ),
        BadConfig(
            file: "wrangler.toml",
            contents: "[[env.staging.kv_namespaces]]\nbinding = \"A\"\nid = \"\"\n",
            code: .emptyValue,
            message: "wrangler.toml: env.staging.kv_namespaces[0].id: must not be empty"
        ),
        BadConfig(
            file: "wrangler.toml",
            contents: "[[env.\"eu.west\".kv_namespaces]]\nid = \"x\"\n",
            code: .missingValue,
            message: #"wrangler.toml: env."eu.west".kv_namespaces[0]: "binding" is required"#
        ),
        BadConfig(
            file: "wrangler.toml",
            contents: """
                [[kv_namespaces]]
                binding = "SESSIONS"
                id = "a"

                [[kv_namespaces]]
                binding = "CACHE"
                id = "b"

                [[kv_namespaces]]
                binding = "SESSIONS"
                id = "c"
                """,
            code: .duplicateBinding,
            message: #"wrangler.toml: kv_namespaces[2].binding: binding "SESSIONS" is already used by kv_namespaces[0]"#
        ),
        BadConfig(
            file: "wrangler.toml",
            contents: """
                [[env.prod.kv_namespaces]]
                binding = "KV"
                [[env.prod.kv_namespaces]]
                binding = "KV"
                """,
            code: .duplicateBinding,
            message: #"wrangler.toml: env.prod.kv_namespaces[1].binding: binding "KV" is already used by "#
                + "env.prod.kv_namespaces[0]"
        ),
    ]

    static let invalidJSON: [BadConfig] = [
        BadConfig(
            file: "wrangler.json",
            contents: #"{ "kv_namespaces": [ { "binding": "A" }, { "binding": null } ] }"#,
            code: .invalidType,
            message: "wrangler.json: kv_namespaces[1].binding: expected a string, got null"
        ),
        BadConfig(
            file: "wrangler.json",
            contents: #"{ "kv_namespaces": [ "SESSIONS" ] }"#,
            code: .invalidType,
            message: "wrangler.json: kv_namespaces[0]: expected an object, got a string"
        ),
        BadConfig(
            file: "wrangler.json",
            contents: #"{ "kv_namespaces": { "binding": "A" } }"#,
            code: .invalidType,
            message: "wrangler.json: kv_namespaces: expected an array, got an object"
        ),
        BadConfig(
            file: "wrangler.jsonc",
            contents: #"{ "kv_namespaces": [ { "binding": "A", "id": 7 } ] }"#,
            code: .invalidType,
            message: "wrangler.jsonc: kv_namespaces[0].id: expected a string, got a number"
        ),
        BadConfig(
            file: "wrangler.jsonc",
            contents: #"{ "kv_namespaces": [ { "id": "abc" } ] }"#,
            code: .missingValue,
            message: #"wrangler.jsonc: kv_namespaces[0]: "binding" is required"#
        ),
        BadConfig(
            file: "wrangler.jsonc",
            contents: #"{ "env": { "dev": { "kv_namespaces": [ { "binding": "A", "id": "" } ] } } }"#,
            code: .emptyValue,
            message: "wrangler.jsonc: env.dev.kv_namespaces[0].id: must not be empty"
        ),
        BadConfig(
            file: "wrangler.jsonc",
            contents: #"{ "kv_namespaces": [ { "binding": "A" }, { "binding": "A" } ] }"#,
            code: .duplicateBinding,
            message: #"wrangler.jsonc: kv_namespaces[1].binding: binding "A" is already used by kv_namespaces[0]"#
        ),
        BadConfig(
            file: "wrangler.json",
            contents: #"[ { "binding": "A" } ]"#,
            code: .invalidType,
            message: "wrangler.json: expected an object at the top level, got an array"
        ),
        BadConfig(
            file: "wrangler.json",
            contents: #"{ "vars": "A=1" }"#,
            code: .invalidType,
            message: "wrangler.json: vars: expected an object, got a string"
        ),
        BadConfig(
            file: "wrangler.json",
            contents: #"{ "env": { "staging": [] } }"#,
            code: .invalidType,
            message: "wrangler.json: env.staging: expected an object, got an array"
        ),
    ]

    static let jsoncSyntax: [BadConfig] = [
        BadConfig(
            file: "wrangler.jsonc",
            contents: """
                {
                  "name": "x",
                  "kv_namespaces": [
                    { }}
                  ]
                }
                """,
            code: .syntax,
            message: "wrangler.jsonc: line 4, column 8: unexpected character '}', expected ',' or ']'"
        ),
        BadConfig(
            file: "wrangler.jsonc",
            contents: "{\n  \"kv_namespaces\": [\n    { \"binding\" \"A\" }\n  ]\n}\n",
            code: .syntax,
            message: #"wrangler.jsonc: line 3, column 17: unexpected character '"', expected ':'"#
        ),
        BadConfig(
            file: "wrangler.jsonc",
            contents: "{\n  \"name\": \"x\"\n  \"main\": \"y\"\n}\n",
            code: .syntax,
            message: #"wrangler.jsonc: line 3, column 3: unexpected character '"', expected ',' or '}'"#
        ),
        BadConfig(
            file: "wrangler.jsonc",
            contents: "{\n  \"name\": \"x\", /* never closed\n}\n",
            code: .syntax,
            message: "wrangler.jsonc: line 2, column 16: unterminated block comment"
        ),
        BadConfig(
            file: "wrangler.jsonc",
            contents: "{\n  \"name\": \"abc\n}\n",
            code: .syntax,
            message: "wrangler.jsonc: line 2, column 11: unterminated string"
        ),
        BadConfig(
            file: "wrangler.jsonc",
            contents: "{ \"name\": \"x\" }  // fine\n}",
            code: .syntax,
            message: "wrangler.jsonc: line 2, column 1: unexpected character '}', expected end of file"
        ),
        BadConfig(
            file: "wrangler.jsonc",
            contents: "{ , }",
            code: .syntax,
            message: "wrangler.jsonc: line 1, column 3: unexpected character ',', expected a string key or '}'"
        ),
        BadConfig(
            file: "wrangler.jsonc",
            contents: "{ \"vars\": { \"A\": [1,,2] } }",
            code: .syntax,
            message: "wrangler.jsonc: line 1, column 21: unexpected character ',', expected a value"
        ),
        BadConfig(
            file: "wrangler.jsonc",
            contents: "{ 'name': 'x' }",
            code: .syntax,
            message: #"wrangler.jsonc: line 1, column 3: unexpected character "'", expected a string key or '}'"#
        ),
        BadConfig(
            file: "wrangler.jsonc",
            contents: "{ \"name\": \"x\",\n",
            code: .syntax,
            message: "wrangler.jsonc: line 2, column 1: unexpected end of file, expected a string key or '}'"
        ),
        BadConfig(
            file: "wrangler.jsonc",
            contents: "// nothing but a comment\n",
            code: .syntax,
            message: "wrangler.jsonc: line 2, column 1: unexpected end of file, expected a value"
        ),
        BadConfig(
            file: "wrangler.json",
            contents: #"{ "name": "a\qb" }"#,
            code: .syntax,
            message: "wrangler.json: line 1, column 13: invalid escape sequence in string"
        ),
        BadConfig(
            file: "wrangler.json",
            contents: #"{ "name": "\ud83d" }"#,
            code: .syntax,
            message: #"wrangler.json: line 1, column 12: unpaired surrogate in \u escape"#
        ),
        BadConfig(
            file: "wrangler.json",
            contents: "{ \"name\": \"tab\there\" }",
            code: .syntax,
            message: "wrangler.json: line 1, column 15: control character U+0009 must be escaped in a string"
        ),
        BadConfig(
            file: "wrangler.json",
            contents: #"{ "vars": { "N": 01 } }"#,
            code: .syntax,
            message: "wrangler.json: line 1, column 19: unexpected character '1', expected ',' or '}'"
        ),
        BadConfig(
            file: "wrangler.json",
            contents: #"{ "vars": { "N": 1. } }"#,
            code: .syntax,
            message: "wrangler.json: line 1, column 20: unexpected character ' ', expected a digit"
        ),
        BadConfig(
            file: "wrangler.json",
            contents: #"{ "vars": { "N": NaN } }"#,
            code: .syntax,
            message: "wrangler.json: line 1, column 18: unexpected character 'N', expected a value"
        ),
        BadConfig(
            file: "wrangler.json",
            contents: #"{ "vars": { "B": tru } }"#,
            code: .syntax,
            message: "wrangler.json: line 1, column 21: unexpected character ' ', expected 'true'"
        ),
        BadConfig(
            file: "wrangler.json",
            contents: "{ \"vars\": { \"héllo→\": 1 x } }",
            code: .syntax,
            message: "wrangler.json: line 1, column 25: unexpected character 'x', expected ',' or '}'"
        ),
    ]

    @Test(arguments: invalidTOML)
    func invalidTOMLIsRejected(_ bad: BadConfig) throws {
        let error = try #require(try ConfigFixture.loadError(bad.contents, as: bad.file))
        #expect(error.code == bad.code)
        #expect(error.description == bad.message)
    }

    @Test(arguments: invalidJSON)
    func invalidJSONIsRejected(_ bad: BadConfig) throws {
        let error = try #require(try ConfigFixture.loadError(bad.contents, as: bad.file))
        #expect(error.code == bad.code)
        #expect(error.description == bad.message)
    }

    @Test(arguments: jsoncSyntax)
    func jsoncSyntaxErrorsPointAtLineAndColumn(_ bad: BadConfig) throws {
        let error = try #require(try ConfigFixture.loadError(bad.contents, as: bad.file))
        #expect(error.code == bad.code)
        #expect(error.description == bad.message)
        #expect(error.line != nil)
        #expect(error.column != nil)
        #expect(error.keyPath == nil)
    }

    @Test func errorExposesItsParts() throws {
        let error = try #require(
            try ConfigFixture.loadError(
                "[[env.staging.kv_namespaces]]\nbinding = \"A\"\nid = \"\"\n",
                as: "wrangler.toml"
            )
        )
        #expect(error.code == .emptyValue)
        #expect(error.keyPath == "env.staging.kv_namespaces[0].id")
        #expect(error.message == "must not be empty")
        #expect(error.fileURL?.lastPathComponent == "wrangler.toml")
        #expect(error.line == nil)
        #expect(error.column == nil)
        let fileURL = try #require(error.fileURL)
        #expect(
            error.debugDescription
                == "ConfigError(emptyValue): wrangler.toml: env.staging.kv_namespaces[0].id: must not be empty"
                + " [\(fileURL.path)]"
        )
    }

    @Test func unsupportedExtensionIsRejected() throws {
        let error = try #require(try ConfigFixture.loadError("name: x\n", as: "wrangler.yaml"))
        #expect(error.code == .unsupportedFormat)
        #expect(
            error.description
                == "wrangler.yaml: unsupported configuration format (expected a .toml, .json or .jsonc file)"
        )
    }

    @Test func missingFileIsReportedWithItsPath() throws {
        try ConfigFixture.with { fixture in
            let url = fixture.directory.appendingPathComponent("wrangler.toml")
            let error = #expect(throws: ConfigError.self) { try WranglerConfig.load(from: url) }
            #expect(error?.code == .unreadableFile)
            #expect(error?.description == "wrangler.toml: no such file: \(url.path)")
        }
    }

    @Test func remoteURLIsNotFetched() throws {
        let url = try #require(URL(string: "https://example.com/config/wrangler.toml"))
        let error = #expect(throws: ConfigError.self) { try WranglerConfig.load(from: url) }
        #expect(error?.code == .unreadableFile)
        #expect(error?.description == "wrangler.toml: not a file URL: https://example.com/config/wrangler.toml")
    }

    @Test func invalidUTF8IsRejected() throws {
        try ConfigFixture.with { fixture in
            let url = try fixture.write(
                Data([0x6E, 0x61, 0x6D, 0x65, 0x20, 0x3D, 0x20, 0x22, 0xFF, 0x22]),
                to: "wrangler.toml"
            )
            let error = #expect(throws: ConfigError.self) { try WranglerConfig.load(from: url) }
            #expect(error?.code == .unreadableFile)
            #expect(error?.description == "wrangler.toml: the file is not valid UTF-8 text")
        }
    }
}
