/// Cohere's v2 Chat format (`POST /v2/chat`).
public struct CohereDialect: ChatDialect {
    /// The dialect.
    public init() {}

    public func decodeRequest(_ body: JSONValue, pathModel: String?, stream: Bool) throws(GatewayError) -> ChatRequest {
        let object = try Read.object(body)
        let model = try Read.string(object, "model")
        guard let items = try Read.array(object, "messages"), !items.isEmpty else {
            throw .invalid("messages is required and must be a non-empty array", param: "messages")
        }
        let (system, messages) = try Read.chatMessages(items, systemRoles: ["system"], toolDocuments: true)
        let tools = try Read.functionTools(try Read.array(object, "tools"))
        let choice: ToolChoice
        switch object["tool_choice"]?.string {
        case nil: choice = .auto
        case "REQUIRED": choice = .required
        case "NONE": choice = .none
        default: throw .invalid("tool_choice must be REQUIRED or NONE", param: "tool_choice")
        }
        return ChatRequest(
            model: model, system: system.isEmpty ? nil : system.joined(separator: "\n\n"), messages: messages,
            maxTokens: try Read.positiveInt(object, "max_tokens"), temperature: try Read.number(object, "temperature"),
            topP: try Read.number(object, "p"), stop: try Read.stops(object["stop_sequences"], key: "stop_sequences"),
            tools: tools, toolChoice: choice, jsonMode: object["response_format"]?["type"]?.string == "json_object",
            stream: try Read.bool(object, "stream") ?? false)
    }

    public func encodeRequest(_ request: ChatRequest, upstreamModel: String) -> JSONValue {
        var messages: [JSONValue] = []
        if let system = request.system { messages.append(["role": "system", "content": .string(system)]) }
        for message in request.messages {
            switch message.role {
            case .user: messages.append(["role": "user", "content": .string(message.text)])
            case .assistant:
                var turn: JSONValue = ["role": "assistant"]
                if !message.text.isEmpty { turn["content"] = .string(message.text) }
                if !message.toolCalls.isEmpty {
                    turn["tool_calls"] = OpenAIDialect.toolCalls(message.toolCalls, indexed: false)
                }
                messages.append(turn)
            case .tool:
                messages.append([
                    "role": "tool", "tool_call_id": .optional(message.toolCallID), "content": .string(message.text),
                ])
            }
        }
        var body: JSONValue = [
            "model": .string(upstreamModel), "messages": .array(messages), "stream": .bool(request.stream),
        ]
        if let maxTokens = request.maxTokens { body["max_tokens"] = .int(maxTokens) }
        if let temperature = request.temperature { body["temperature"] = .double(temperature) }
        if let topP = request.topP { body["p"] = .double(topP) }
        if !request.stop.isEmpty { body["stop_sequences"] = .array(request.stop.map(JSONValue.string)) }
        if !request.tools.isEmpty {
            // Cohere cannot name the tool to call: offering only that tool, required, means the same.
            var tools = request.tools
            if case .named(let name) = request.toolChoice { tools = tools.filter { $0.name == name } }
            body["tools"] = .array(
                tools.map {
                    [
                        "type": "function",
                        "function": [
                            "name": .string($0.name), "description": .string($0.description ?? ""),
                            "parameters": $0.parameters,
                        ],
                    ]
                })
            switch request.toolChoice {
            case .required, .named: body["tool_choice"] = "REQUIRED"
            case .none: body["tool_choice"] = "NONE"
            case .auto: break
            }
        }
        if request.jsonMode { body["response_format"] = ["type": "json_object"] }
        return body
    }

    public func patchRequest(_ body: JSONValue, upstreamModel: String, maxTokens: Int64, stream: Bool) -> JSONValue {
        Read.patched(body, model: upstreamModel, maxTokens: maxTokens)
    }

    public func decodeResponse(_ body: JSONValue) throws(GatewayError) -> ChatResponse {
        guard let message = body["message"], let usage = body["usage"] else {
            throw OpenAIDialect.malformed("a Cohere reply without a message or usage")
        }
        let texts = (message["content"]?.array ?? []).compactMap {
            $0["type"]?.string == "text" ? $0["text"]?.string : nil
        }
        let calls = try Read.toolCalls(message["tool_calls"]?.array, at: "tool_calls") { _ in
            OpenAIDialect.malformed("a tool call without an id or name")
        }
        return ChatResponse(
            id: body["id"]?.string ?? "", text: texts.isEmpty ? nil : texts.joined(), toolCalls: calls,
            finish: Self.finish(body["finish_reason"]?.string), usage: try Self.usage(usage))
    }

    /// Cohere's usage: billed units, else raw token counts; cached tokens when reported.
    static func usage(_ usage: JSONValue) throws(GatewayError) -> TokenUsage {
        let counts = usage["billed_units"]?["output_tokens"] != nil ? usage["billed_units"] : usage["tokens"]
        guard let input = counts?["input_tokens"]?.int, let output = counts?["output_tokens"]?.int, input >= 0,
            output >= 0
        else { throw OpenAIDialect.malformed("a usage block without token counts") }
        let cached = min(input, max(0, usage["cached_tokens"]?.int ?? 0))
        return TokenUsage(input: input - cached, cachedInput: cached, output: output)
    }

    static func finish(_ reason: String?) -> FinishReason {
        switch reason {
        case "MAX_TOKENS": .length
        case "TOOL_CALL": .toolCalls
        default: .stop
        }
    }

    static func finishText(_ reason: FinishReason) -> String {
        switch reason {
        case .stop, .contentFilter: "COMPLETE"
        case .length: "MAX_TOKENS"
        case .toolCalls: "TOOL_CALL"
        }
    }

    static func usageBlock(_ usage: TokenUsage) -> JSONValue {
        let input = JSONValue.int(usage.input + usage.cachedInput)
        return [
            "billed_units": ["input_tokens": input, "output_tokens": .int(usage.output)],
            "tokens": ["input_tokens": input, "output_tokens": .int(usage.output)],
            "cached_tokens": .int(usage.cachedInput),
        ]
    }

    public func encodeResponse(_ response: ChatResponse, model: String) -> JSONValue {
        var message: JSONValue = ["role": "assistant"]
        if let text = response.text { message["content"] = [["type": "text", "text": .string(text)]] }
        if !response.toolCalls.isEmpty {
            message["tool_calls"] = OpenAIDialect.toolCalls(response.toolCalls, indexed: false)
        }
        return [
            "id": .string(response.id), "finish_reason": .string(Self.finishText(response.finish)), "message": message,
            "usage": Self.usageBlock(response.usage),
        ]
    }

    public func streamDecoder() -> any ChatStreamDecoder { StreamDecoder() }

    public func streamEncoder(model: String, includeUsage: Bool) -> any ChatStreamEncoder { StreamEncoder() }

    public func errorBody(_ error: GatewayError, requestID: String) -> JSONValue {
        ["id": .string(requestID), "message": .string(error.message)]
    }

    /// A spent cap is 402: Cohere's SDK retries every 429 whatever the answer says, and a cap
    /// does not clear by retrying.
    public func status(of error: GatewayError) -> Int { error.kind == .capExceeded ? 402 : error.status }

    /// Reads Cohere's stream events (`message-start` … `message-end`).
    struct StreamDecoder: ChatStreamDecoder {
        private var calls: [Int: Int] = [:]

        mutating func decode(_ event: ServerSentEvent) throws(GatewayError) -> [ChatStreamEvent] {
            if event.data == "[DONE]" { return [] }
            let data = try Read.streamChunk(event)
            let delta = data["delta"]
            switch data["type"]?.string ?? event.name {
            case "message-start": return [.start(id: data["id"]?.string ?? "", inputTokens: nil)]
            case "content-delta":
                guard let text = delta?["message"]?["content"]?["text"]?.string, !text.isEmpty else { return [] }
                return [.text(text)]
            case "tool-call-start":
                let call = delta?["message"]?["tool_calls"]
                let index = calls.count
                calls[Int(data["index"]?.int ?? 0)] = index
                var events: [ChatStreamEvent] = [
                    .toolCall(
                        index: index, id: call?["id"]?.string ?? "", name: call?["function"]?["name"]?.string ?? "")
                ]
                if let arguments = call?["function"]?["arguments"]?.string, !arguments.isEmpty {
                    events.append(.toolArguments(index: index, arguments))
                }
                return events
            case "tool-call-delta":
                guard let text = delta?["message"]?["tool_calls"]?["function"]?["arguments"]?.string else { return [] }
                return [.toolArguments(index: calls[Int(data["index"]?.int ?? 0)] ?? 0, text)]
            case "message-end":
                if let failure = delta?["error"]?.string {
                    throw GatewayError(.upstream, code: "upstream_error", "the provider failed mid-stream: \(failure)")
                }
                var events: [ChatStreamEvent] = [.finish(CohereDialect.finish(delta?["finish_reason"]?.string))]
                if let usage = delta?["usage"] { events.append(.usage(try CohereDialect.usage(usage))) }
                return events
            default: return []
            }
        }
    }

    /// Writes Cohere's stream events.
    struct StreamEncoder: ChatStreamEncoder {
        private var id = ""
        private var textOpen = false
        private var toolOpen: Int?
        private var blocks = 0
        private var finish: FinishReason?

        private func event(_ type: String, _ fields: JSONValue) -> [UInt8] {
            var data = fields
            data["type"] = .string(type)
            return Array("event: \(type)\ndata: ".utf8) + data.bytes + Array("\n\n".utf8)
        }

        private mutating func close() -> [UInt8] {
            if textOpen {
                textOpen = false
                blocks += 1
                return event("content-end", ["index": .int(Int64(blocks - 1))])
            }
            if let tool = toolOpen {
                toolOpen = nil
                return event("tool-call-end", ["index": .int(Int64(tool))])
            }
            return []
        }

        mutating func encode(_ event: ChatStreamEvent) -> [UInt8] {
            switch event {
            case .start(let id, _):
                self.id = id.isEmpty ? "agentry" : id
                return self.event(
                    "message-start",
                    [
                        "id": .string(self.id),
                        "delta": ["message": ["role": "assistant", "content": [], "tool_calls": []]],
                    ])
            case .text(let text):
                var bytes: [UInt8] = []
                if !textOpen {
                    bytes += close()
                    textOpen = true
                    bytes += self.event(
                        "content-start",
                        [
                            "index": .int(Int64(blocks)),
                            "delta": ["message": ["content": ["type": "text", "text": ""]]],
                        ])
                }
                return bytes
                    + self.event(
                        "content-delta",
                        ["index": .int(Int64(blocks)), "delta": ["message": ["content": ["text": .string(text)]]]])
            case .toolCall(let index, let id, let name):
                var bytes = close()
                toolOpen = index
                bytes += self.event(
                    "tool-call-start",
                    [
                        "index": .int(Int64(index)),
                        "delta": [
                            "message": [
                                "tool_calls": [
                                    "id": .string(id), "type": "function",
                                    "function": ["name": .string(name), "arguments": ""],
                                ]
                            ]
                        ],
                    ])
                return bytes
            case .toolArguments(let index, let text):
                return self.event(
                    "tool-call-delta",
                    [
                        "index": .int(Int64(index)),
                        "delta": ["message": ["tool_calls": ["function": ["arguments": .string(text)]]]],
                    ])
            case .finish(let reason):
                finish = reason
                return []
            case .usage: return []
            }
        }

        mutating func end(usage: TokenUsage) -> [UInt8] {
            close()
                + event(
                    "message-end",
                    [
                        "id": .string(id),
                        "delta": [
                            "finish_reason": .string(CohereDialect.finishText(finish ?? .stop)),
                            "usage": CohereDialect.usageBlock(usage),
                        ],
                    ]) + Array("data: [DONE]\n\n".utf8)
        }
    }
}
