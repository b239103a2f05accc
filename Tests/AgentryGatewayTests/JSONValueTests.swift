import AgentryGateway
import Foundation
import Testing

/// The gateway's own JSON reader and writer agree with RFC 8259 and with Foundation.
@Suite("JSON values")
struct JSONValueTests {
    @Test func valuesRoundTripAndMatchFoundation() throws {
        let text = #"""
            {"a":[1,-2,3.5,1e3,-0.25E-2,true,false,null],"s":"q\"b\\s\/n\n\t\u00e9\ud83d\ude00\u0001","e":{},"l":[],
             "big":9007199254740993,"neg":-9223372036854775808}
            """#
        let value = try #require(JSONValue.parse(Array(text.utf8)))
        #expect(value["a"]?.array?.count == 8)
        #expect(value["a"]?.array?[0] == .int(1) && value["a"]?.array?[2] == .double(3.5))
        #expect(value["a"]?.array?[3].double == 1000 && value["a"]?.array?[4].double == -0.0025)
        #expect(value["s"]?.string == "q\"b\\s/n\n\t\u{e9}\u{1F600}\u{1}")
        #expect(value["big"] == .int(9_007_199_254_740_993))
        #expect(value["neg"] == .int(.min))
        // What it writes, Foundation reads back to the same values, and so does it.
        let written = value.bytes
        let foundation = try JSONSerialization.jsonObject(with: Data(written)) as? [String: Any]
        #expect(foundation?["s"] as? String == "q\"b\\s/n\n\t\u{e9}\u{1F600}\u{1}")
        #expect(JSONValue.parse(written) == value)
    }

    @Test func malformedTextIsRefused() {
        for text in [
            "", " ", "{", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "-", "+1", "1e", "tru", "nul", "\"\u{1}\"",
            "\"\\x\"", "\"\\ud800\"", "\"\\ud800\\u0041\"", "{\"a\":1,\"a\":2}", "[1] 2", "{a:1}", "'a'", "NaN",
            "1e999", String(repeating: "[", count: 200) + String(repeating: "]", count: 200),
        ] {
            #expect(JSONValue.parse(Array(text.utf8)) == nil, "accepted \(text.prefix(40))")
        }
        #expect(JSONValue.parse(Array("  [ 1 , {\"b\" : [ ] } ]\n".utf8)) == [1, ["b": []]])
        // Text that is not UTF-8 is refused, with or without escapes around it.
        #expect(JSONValue.parse([0x22, 0xFF, 0x22]) == nil)
        #expect(JSONValue.parse([0x22, 0x5C, 0x6E, 0xC3, 0x22]) == nil)
    }
}
