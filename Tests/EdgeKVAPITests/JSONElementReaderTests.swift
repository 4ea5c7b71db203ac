import EdgeKV
import Testing

@testable import EdgeKVAPI

/// ``JSONElementReader`` finds the same elements as parsing the whole text, wherever the chunks split it, and refuses
/// exactly the texts the parser refuses.
@Suite struct JSONElementReaderTests {
    static let arrays = [
        "[]", " [ ] ", "[1]", #"[1,"two",{"k":[3,{"x":"]"}]},[],null,true,false,-1.5e3]"#,
        #"["a,b", "c\"]", "\\", "\u005d", {"}":"{"}]"#, "\n[\t{\"key\":\"k\",\"value\":\"v\"}\r\n]\n",
        // Not JSON: each must be refused.
        "", "[", "[1", "[1,]", "[,1]", "[1 2]", "[1]]", "[1] x", "{}", "1", #"["a]"#, "[{]}", "[{\"a\":1]}",
        "[1}", "[[1]", "[tru]", "[\"\\x\"]",
    ]

    /// Feeds `text` in chunks split at `cuts`; returns the elements, or nil when the reader refused the text.
    static func read(
        _ text: [UInt8], cuts: [Int], arrayMember: String? = nil
    ) -> (
        elements: [JSONValue], members: [String: JSONValue]
    )? {
        var reader = JSONElementReader(arrayMember: arrayMember, maxElements: 100)
        var elements: [JSONValue] = []
        var members: [String: JSONValue] = [:]
        var start = 0
        do {
            for end in cuts + [text.count] where end >= start {
                try reader.consume(Array(text[start..<end])) { event in
                    switch event {
                    case .element(let index, let value):
                        #expect(index == elements.count)
                        elements.append(value)
                    case .member(let name, let value): members[name] = value
                    }
                }
                start = end
            }
            try reader.finish()
        } catch {
            return nil
        }
        return (elements, members)
    }

    @Test(arguments: arrays)
    func anArrayReadsAsItParsesWhereverItIsCut(text: String) {
        let bytes = Array(text.utf8)
        let expected = (try? JSONValue(parsing: bytes))?.arrayValue
        for cut in 0...bytes.count {
            let read = Self.read(bytes, cuts: [cut])
            #expect(read?.elements == expected, "cut at \(cut) of \(text.debugDescription)")
        }
        #expect(Self.read(bytes, cuts: Array(0..<bytes.count))?.elements == expected, "byte by byte")
    }

    @Test(arguments: [
        (#"{"keys":["a","b"],"type":"json","withMetadata":true}"#, true),
        (#" { "type" : "text" , "keys" : [ ] } "#, true), (#"{"a\"keys":[1],"keys":["x"],"n":{"keys":[2]}}"#, true),
        ("{}", true), (#"{"keys":["a"],}"#, false), (#"{"keys":"a"}"#, false), (#"{"keys":["a"],"keys":["b"]}"#, false),
        (#"{"keys":["a"]"#, false), (#"["a"]"#, false), (#"{"keys" ["a"]}"#, false), (#"{keys:["a"]}"#, false),
        (#"{"keys":["a"]}}"#, false),
    ])
    func theArrayOfAnObjectReadsAsItParsesWhereverItIsCut(text: String, valid: Bool) throws {
        let bytes = Array(text.utf8)
        for cut in 0...bytes.count {
            let read = Self.read(bytes, cuts: [cut], arrayMember: "keys")
            if valid {
                let object = try #require(try JSONValue(parsing: bytes).objectValue)
                #expect(read?.elements == object["keys"]?.arrayValue ?? [], "cut at \(cut) of \(text)")
                #expect(read?.members == object.filter { $0.key != "keys" }, "cut at \(cut) of \(text)")
            } else {
                #expect(read == nil, "cut at \(cut) of \(text) should be refused")
            }
        }
    }

    @Test func theElementPastTheLimitIsRefusedWhenItStarts() throws {
        var reader = JSONElementReader(maxElements: 2)
        var seen = 0
        #expect(throws: JSONElementReader.Failure.tooManyElements) {
            try reader.consume(Array("[1, 2, 3".utf8)) { _ in seen += 1 }
        }
        #expect(seen == 2)
    }
}
