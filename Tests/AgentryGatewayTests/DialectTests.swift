import AgentryGateway
import Testing

/// The dialects read and write each vendor's format through one canonical form, so any SDK can
/// reach any model; streams survive being cut anywhere into network chunks.
@Suite("Dialects")
struct DialectTests {
    static let conversation = ChatRequest(
        model: "m", system: "be brief",
        messages: [
            ChatMessage(role: .user, text: "look up cats"),
            ChatMessage(
                role: .assistant, text: "",
                toolCalls: [ToolCall(id: "call_1", name: "lookup", arguments: #"{"q":"cats"}"#)]),
            ChatMessage(role: .tool, text: #"{"found":3}"#, toolCallID: "call_1", toolName: "lookup"),
            ChatMessage(role: .user, text: "thanks"),
        ],
        maxTokens: 50, temperature: 0.5, stop: ["END"],
        tools: [ChatTool(name: "lookup", description: "Look up", parameters: ["type": "object"])],
        toolChoice: .named("lookup"))

    /// A request written in one dialect and read back as an inbound call of it means the same.
    @Test(arguments: Dialect.allCases)
    func aConversationSurvivesEveryDialect(dialect: Dialect) throws {
        let codec = dialect.codec
        let written = codec.encodeRequest(Self.conversation, upstreamModel: "m")
        let read = try codec.decodeRequest(written, pathModel: "m", stream: false)
        #expect(read.system == "be brief")
        #expect(read.maxTokens == 50 && read.temperature == 0.5 && read.stop == ["END"])
        #expect(read.tools.map(\.name) == ["lookup"])
        // Cohere names no tool: it is offered only the named one, and must call it.
        #expect(read.toolChoice == (dialect == .cohere ? .required : .named("lookup")))
        #expect(read.messages.map(\.role) == [.user, .assistant, .tool, .user])
        #expect(read.messages[1].toolCalls.first?.name == "lookup")
        #expect(JSONValue.parse(Array((read.messages[1].toolCalls.first?.arguments ?? "").utf8)) == ["q": "cats"])
        #expect(read.messages[2].toolName == "lookup")
        #expect(read.messages[3].text == "thanks")
    }

    /// A reply written by a dialect's encoder is read back the same by its decoder, whole and streamed.
    @Test(arguments: Dialect.allCases)
    func repliesAndStreamsRoundTrip(dialect: Dialect) throws {
        let codec = dialect.codec
        let reply = ChatResponse(
            id: "r1", text: "hello world", toolCalls: [], finish: .stop, usage: TokenUsage(input: 7, output: 2))
        let read = try codec.decodeResponse(codec.encodeResponse(reply, model: "m"))
        #expect(read.text == "hello world" && read.usage == reply.usage && read.finish == .stop)

        var encoder = codec.streamEncoder(model: "m", includeUsage: true)
        var bytes: [UInt8] = []
        for event: ChatStreamEvent in [
            .start(id: "r1", inputTokens: 7), .text("hello"), .text(" world"), .finish(.length),
        ] {
            bytes += encoder.encode(event)
        }
        bytes += encoder.end(usage: TokenUsage(input: 7, output: 2))
        // Feed the stream one byte at a time: events may be split anywhere by the network.
        var parser = ServerSentEventParser()
        var decoder = codec.streamDecoder()
        var events: [ChatStreamEvent] = []
        for byte in bytes {
            for (event, _) in try parser.feed([byte]) { events += try decoder.decode(event) }
        }
        let text = events.compactMap { if case .text(let piece) = $0 { piece } else { nil } }.joined()
        #expect(text == "hello world")
        #expect(events.contains(.finish(.length)))
        let usage = events.compactMap { if case .usage(let usage) = $0 { usage } else { nil } }.last
        #expect(usage?.output == 2)
        #expect(!parser.hasPartialEvent)
    }

    @Test func serverSentEventsAreCutAtBlankLinesOfEitherKind() throws {
        var parser = ServerSentEventParser()
        let events = try parser.feed(
            Array(": comment\r\nevent: ping\r\ndata: {}\r\n\r\ndata: a\ndata: b\n\ndata: tail".utf8))
        #expect(
            events.map(\.event) == [
                ServerSentEvent(name: "ping", data: "{}"), ServerSentEvent(name: nil, data: "a\nb"),
            ])
        #expect(parser.hasPartialEvent)
        #expect(try parser.feed(Array("\n\n".utf8)).map(\.event.data) == ["tail"])
        var flooded = ServerSentEventParser()
        #expect(throws: GatewayError.self) { try flooded.feed([UInt8](repeating: 0x61, count: (4 << 20) + 1)) }
    }

    /// Malformed inbound calls are refused with the field at fault, in each dialect.
    @Test func badRequestsNameTheirField() throws {
        let openai = OpenAIDialect()
        let cases: [(any ChatDialect, JSONValue, String?)] = [
            (openai, ["model": "m"], "messages"),
            (openai, ["model": "m", "messages": [["role": "user", "content": "x"]], "n": 2], "n"),
            (openai, ["model": "m", "messages": [["role": "wizard", "content": "x"]]], "messages[0].role"),
            (
                openai, ["model": "m", "messages": [["role": "user", "content": [["type": "image_url"]]]]],
                "messages[0].content"
            ),
            (openai, ["model": "m", "messages": [["role": "user", "content": "x"]], "max_tokens": 0], "max_tokens"),
            (
                openai, ["model": "m", "messages": [["role": "user", "content": "x"]], "temperature": "hot"],
                "temperature"
            ),
            (
                AnthropicDialect(), ["model": "m", "messages": [["role": "user", "content": [["type": "image"]]]]],
                "messages.0.content.0"
            ),
            (AnthropicDialect(), ["model": "m", "messages": [["role": "system", "content": "x"]]], "messages.0.role"),
            (GeminiDialect(), ["contents": []], "contents"),
            (GeminiDialect(), ["contents": [["role": "user", "parts": [["inlineData": [:]]]]]], "contents[0]"),
            (openai, "not an object", nil),
        ]
        for (dialect, body, param) in cases {
            let error = #expect(throws: GatewayError.self) {
                try dialect.decodeRequest(body, pathModel: "m", stream: false)
            }
            #expect(error?.kind == .invalidRequest)
            #expect(error?.param == param, "\(body.text): \(String(describing: error))")
        }
    }

    /// Each dialect's error body is the vendor's own shape.
    @Test func errorsTakeEachVendorsShape() {
        let error = GatewayError(
            .capExceeded, code: "cap_exceeded", "daily cap of user:u exceeded: $1.00 cap, $0.10 left")
        let openai = OpenAIDialect().errorBody(error, requestID: "r")
        #expect(openai["error"]?["code"] == "cap_exceeded" && openai["error"]?["message"]?.string == error.message)
        let anthropic = AnthropicDialect().errorBody(error, requestID: "r")
        #expect(anthropic["type"] == "error" && anthropic["error"]?["type"] == "rate_limit_error")
        #expect(anthropic["request_id"] == "r")
        let gemini = GeminiDialect().errorBody(error, requestID: "r")
        #expect(gemini["error"]?["status"] == "RESOURCE_EXHAUSTED" && gemini["error"]?["code"] == 429)
        #expect(error.status == 429 && !error.retryable)
        // Cohere's SDK retries every 429, so a spent cap is 402 there; other refusals keep their status.
        let cohere = CohereDialect()
        #expect(cohere.status(of: error) == 402 && OpenAIDialect().status(of: error) == 429)
        #expect(cohere.status(of: GatewayError.invalid("x")) == 400)
        #expect(cohere.errorBody(error, requestID: "r") == ["id": "r", "message": .string(error.message)])
    }
}
