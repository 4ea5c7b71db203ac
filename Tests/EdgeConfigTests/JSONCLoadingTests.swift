import EdgeConfig
import Foundation
import Testing

@Suite("Loading wrangler.json and wrangler.jsonc")
struct JSONCLoadingTests {
    @Test func loadsPlainJSON() throws {
        let config = try ConfigFixture.load(
            """
            {
              "$schema": "node_modules/wrangler/config-schema.json",
              "name": "my-worker",
              "compatibility_date": "2025-01-01",
              "vars": { "API_HOST": "https://api.example.com", "PORT": 8080 },
              "kv_namespaces": [
                { "binding": "SESSIONS", "id": "abc", "preview_id": "def", "remote": false }
              ],
              "env": {
                "staging": {
                  "kv_namespaces": [{ "binding": "SESSIONS", "id": "stg" }],
                  "vars": { "API_HOST": "https://staging.example.com" }
                }
              }
            }
            """,
            as: "wrangler.json"
        )

        #expect(config.name == "my-worker")
        #expect(config.vars == ["API_HOST": "https://api.example.com", "PORT": "8080"])
        #expect(
            config.kvNamespaces == [KVNamespaceBinding(binding: "SESSIONS", id: "abc", previewId: "def", remote: false)]
        )
        let staging = try #require(config.environments["staging"])
        #expect(staging.name == "my-worker-staging")
        #expect(staging.vars == ["API_HOST": "https://staging.example.com"])
        #expect(staging.kvNamespaces == [KVNamespaceBinding(binding: "SESSIONS", id: "stg")])
    }

    @Test func commentsAreIgnoredOutsideStringsAndKeptInside() throws {
        let config = try ConfigFixture.load(
            #"""
            // wrangler.jsonc: "quotes" in a comment don't open a string
            /* a block comment with a "quote, an apostrophe's and // slashes */
            {
              "name": "my-worker", // trailing line comment with a } brace
              /* multi-line
                 block comment { "name": "not-this" }
              */
              "vars": {
                "URL": "https://example.com/path", // the // inside the string stays
                "GLOB": "/* not a comment */",
                "QUOTED": "say \"hi\" // still the string",
                "ESCAPES": "tab\tnewline\nslash\/e\u00e9 smile \ud83d\ude00",
              },
              "kv_namespaces": [
                {
                  "binding": "SESSIONS", /* inline */ "id": "abc",
                },
              ],
            }
            // a comment at the very end, without a newline
            """#,
            as: "wrangler.jsonc"
        )

        #expect(config.name == "my-worker")
        #expect(
            config.vars == [
                "URL": "https://example.com/path",
                "GLOB": "/* not a comment */",
                "QUOTED": #"say "hi" // still the string"#,
                "ESCAPES": "tab\tnewline\nslash/e\u{e9} smile \u{1F600}",
            ]
        )
        #expect(config.kvNamespaces == [KVNamespaceBinding(binding: "SESSIONS", id: "abc")])
    }

    @Test func trailingCommasAreAllowedInObjectsAndArrays() throws {
        let config = try ConfigFixture.load(
            """
            {
              "kv_namespaces": [
                { "binding": "A", "id": "a", },
                { "binding": "B", "id": "b" },
              ],
              "vars": { "LIST": [1, 2, 3,], "EMPTY": {}, "NONE": [], },
            }
            """,
            as: "wrangler.jsonc"
        )
        #expect(config.kvNamespaces.map(\.binding) == ["A", "B"])
        #expect(config.vars == ["LIST": "[1,2,3]", "EMPTY": "{}", "NONE": "[]"])
    }

    @Test func convertsVarsOfEveryTypeToText() throws {
        let config = try ConfigFixture.load(
            #"""
            {
              "vars": {
                "STRING": "text",
                "INT": 42,
                "NEGATIVE": -7,
                "FLOAT": 0.25,
                "WHOLE_FLOAT": 3.0,
                "EXPONENT": 1e3,
                "SMALL": 1.5e-7,
                "TRUE": true,
                "FALSE": false,
                "NULL": null,
                "ARRAY": [1, "two", [3], { "four": 4 }, null, true],
                "OBJECT": { "z": 1, "a": { "nested": "x\"y\\z\n" }, "m": [] }
              }
            }
            """#,
            as: "wrangler.json"
        )
        #expect(
            config.vars == [
                "STRING": "text",
                "INT": "42",
                "NEGATIVE": "-7",
                "FLOAT": "0.25",
                "WHOLE_FLOAT": "3",
                "EXPONENT": "1000",
                "SMALL": "1.5e-7",
                "TRUE": "true",
                "FALSE": "false",
                "NULL": "null",
                "ARRAY": #"[1,"two",[3],{"four":4},null,true]"#,
                "OBJECT": #"{"a":{"nested":"x\"y\\z\n"},"m":[],"z":1}"#,
            ]
        )
    }

    @Test func acceptsCRLFLineEndingsAndAByteOrderMark() throws {
        let text = "\u{FEFF}{\r\n  // comment\r\n  \"name\": \"crlf\",\r\n}\r\n"
        let config = try ConfigFixture.load(text, as: "wrangler.jsonc")
        #expect(config.name == "crlf")
    }

    @Test func repeatedKeyKeepsTheLastValue() throws {
        let config = try ConfigFixture.load(#"{ "name": "first", "name": "second" }"#, as: "wrangler.json")
        #expect(config.name == "second")
    }

    @Test func anyFileNameWithAJSONCExtensionLoads() throws {
        let config = try ConfigFixture.load(#"{ "name": "custom" }"#, as: "staging.config.JSONC")
        #expect(config.name == "custom")
        #expect(config.fileURL?.lastPathComponent == "staging.config.JSONC")
    }
}
