import EdgeConfig
import Foundation
import Testing

@Suite("Finding the configuration file in a directory")
struct DiscoveryTests {
    static let toml = "name = \"from-toml\"\n"
    static let json = #"{ "name": "from-json" }"#
    static let jsonc = "// comment\n{ \"name\": \"from-jsonc\", }\n"

    @Test func looksForFilesInWranglersOrder() {
        #expect(WranglerConfig.discoveryFileNames == ["wrangler.json", "wrangler.jsonc", "wrangler.toml"])
    }

    @Test func prefersJSONOverJSONCOverTOML() throws {
        try ConfigFixture.with { fixture in
            try fixture.write(Self.toml, to: "wrangler.toml")
            #expect(try WranglerConfig.discover(in: fixture.directory)?.name == "from-toml")

            try fixture.write(Self.jsonc, to: "wrangler.jsonc")
            let jsonc = try #require(try WranglerConfig.discover(in: fixture.directory))
            #expect(jsonc.name == "from-jsonc")
            #expect(jsonc.fileURL?.lastPathComponent == "wrangler.jsonc")

            try fixture.write(Self.json, to: "wrangler.json")
            let json = try #require(try WranglerConfig.discover(in: fixture.directory))
            #expect(json.name == "from-json")
            #expect(json.fileURL?.lastPathComponent == "wrangler.json")
        }
    }

    @Test func returnsNilWhenNoFileExists() throws {
        try ConfigFixture.with { fixture in
            try fixture.write("name = \"other\"\n", to: "other.toml")
            #expect(try WranglerConfig.discover(in: fixture.directory) == nil)
        }
    }

    @Test func skipsADirectoryNamedLikeAConfigFile() throws {
        try ConfigFixture.with { fixture in
            try FileManager.default.createDirectory(
                at: fixture.directory.appendingPathComponent("wrangler.json", isDirectory: true),
                withIntermediateDirectories: false
            )
            try fixture.write(Self.toml, to: "wrangler.toml")
            #expect(try WranglerConfig.discover(in: fixture.directory)?.name == "from-toml")
        }
    }

    @Test func doesNotFallBackWhenThePreferredFileIsBroken() throws {
        try ConfigFixture.with { fixture in
            try fixture.write("{ \"name\": ", to: "wrangler.json")
            try fixture.write(Self.toml, to: "wrangler.toml")
            let error = #expect(throws: ConfigError.self) { try WranglerConfig.discover(in: fixture.directory) }
            #expect(error?.description == "wrangler.json: line 1, column 11: unexpected end of file, expected a value")
        }
    }
}
