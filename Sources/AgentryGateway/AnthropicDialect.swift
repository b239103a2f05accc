/// Anthropic's Messages format.
public struct AnthropicDialect: ChatDialect {
    /// The dialect.
    public init() {}

    public func decodeRequest(_ body: JSONValue, pathModel: String?, stream: Bool) throws(GatewayError) -> ChatRequest {
        let object = try Read.object(body)
        let model = try Read.string(object, "model")
        guard let items = try Read.array(object, "messages"), !items.isEmpty else {
            throw .invalid("messages: is required and must be a non-empty array", param: "messages")
        }
        let system: String?
        switch object["system"] {
        case nil, .null?: system = nil
        case .string(let text)?: system = text
        case .array(let blocks)?: system = try Self.texts(blocks, at: "system").joined(separator: "\n")
        default: throw .invalid("system: must be a string or an array of text blocks", param: "system")
        }
        var messages: [ChatMessage] = []
        for (index, item) in items.enumerated() {
            let path = "messages.\(index)"
            guard let message = item.object else { throw .invalid("\(path): must be an object", param: path) }
            let role = try Read.string(message, "role", at: "\(path).role")
            guard role == "user" || role == "assistant" else {
                throw .invalid("\(path).role: must be user or assistant, not '\(role)'", param: "\(path).role")
            }
            switch message["content"] {
            case .string(let text)?:
                messages.append(ChatMessage(role: role == "user" ? .user : .assistant, text: text))
            case .array(let blocks)?:
                var texts: [String] = []
                var calls: [ToolCall] = []
                for (position, block) in blocks.enumerated() {
                    let at = "\(path).content.\(position)"
                    switch block["type"]?.string {
                    case "text": texts.append(block["text"]?.string ?? "")
                    case "tool_use" where role == "assistant":
                        guard let id = block["id"]?.string, let name = block["name"]?.string else {
                            throw .invalid("\(at): a tool_use block needs an id and a name", param: at)
                        }
                        calls.append(ToolCall(id: id, name: name, arguments: (block["input"] ?? .object([:])).text))
                    case "tool_result" where role == "user":
                        guard let id = block["tool_use_id"]?.string else {
                            throw .invalid("\(at).tool_use_id: is required", param: at)
                        }
                        let result: String
                        switch block["content"] {
                        case nil, .null?: result = ""
                        case .string(let text)?: result = text
                        case .array(let parts)?:
                            result = try Self.texts(parts, at: "\(at).content").joined(separator: "\n")
                        default: throw .invalid("\(at).content: must be a string or text blocks", param: at)
                        }
                        messages.append(
                            ChatMessage(
                                role: .tool, text: result, toolCallID: id, toolName: Read.toolName(of: id, in: messages)
                            ))
                    default:
                        throw .invalid(
                            "\(at).type: only text, tool_use (assistant) and tool_result (user) blocks are supported",
                            param: at)
                    }
                }
                if !texts.isEmpty || !calls.isEmpty {
                    messages.append(
                        ChatMessage(
                            role: role == "user" ? .user : .assistant, text: texts.joined(separator: "\n"),
                            toolCalls: calls))
                }
            default: throw .invalid("\(path).content: must be a string or an array of blocks", param: path)
            }
        }
        var tools: [ChatTool] = []
        for (index, tool) in (try Read.array(object, "tools") ?? []).enumerated() {
            guard let tool = tool.object else { throw .invalid("tools.\(index): must be an object", param: "tools") }
            tools.append(
                ChatTool(
                    name: try Read.string(tool, "name", at: "tools.\(index).name"),
                    description: try Read.optionalString(tool, "description", at: "tools.\(index).description"),
                    parameters: tool["input_schema"] ?? .object(["type": "object"])))
        }
        let choice: ToolChoice
        switch object["tool_choice"]?["type"]?.string {
        case nil, "auto": choice = .auto
        case "any": choice = .required
        case "none": choice = .none
        case "tool":
            guard let name = object["tool_choice"]?["name"]?.string else {
                throw .invalid("tool_choice.name: is required for type tool", param: "tool_choice")
            }
            choice = .named(name)
        default: throw .invalid("tool_choice.type: must be auto, any, tool or none", param: "tool_choice")
        }
        return ChatRequest(
            model: model, system: system, messages: messages, maxTokens: try Read.positiveInt(object, "max_tokens"),
            temperature: try Read.number(object, "temperature"), topP: try Read.number(object, "top_p"),
            stop: try Read.stops(object["stop_sequences"], key: "stop_sequences"), tools: tools, toolChoice: choice,
            stream: try Read.bool(object, "stream") ?? false)
    }

    private static func texts(_ blocks: [JSONValue], at path: String) throws(GatewayError) -> [String] {
        var texts: [String] = []
        for (index, block) in blocks.enumerated() {
            guard block["type"]?.string == "text", let text = block["text"]?.string else {
                throw .invalid("\(path).\(index): must be a text block", param: path)
            }
            texts.append(text)
        }
        return texts
    }

    public func encodeRequest(_ request: ChatRequest, upstreamModel: String) -> JSONValue {
        var messages: [JSONValue] = []
        var pendingResults: [JSONValue] = []
        func flushResults() {
            if !pendingResults.isEmpty { messages.append(["role": "user", "content": .array(pendingResults)]) }
            pendingResults = []
        }
        for message in request.messages {
            switch message.role {
            case .tool:
                pendingResults.append([
                    "type": "tool_result", "tool_use_id": .optional(message.toolCallID),
                    "content": .string(message.text),
                ])
            case .user:
                flushResults()
                messages.append(["role": "user", "content": .string(message.text)])
            case .assistant:
                flushResults()
                var blocks: [JSONValue] = []
                if !message.text.isEmpty { blocks.append(["type": "text", "text": .string(message.text)]) }
                for call in message.toolCalls {
                    blocks.append([
                        "type": "tool_use", "id": .string(call.id), "name": .string(call.name),
                        "input": Read.argumentsObject(call.arguments),
                    ])
                }
                messages.append(["role": "assistant", "content": .array(blocks)])
            }
        }
        flushResults()
        var body: JSONValue = [
            "model": .string(upstreamModel), "messages": .array(messages),
            "max_tokens": .int(request.maxTokens ?? 1024), "stream": .bool(request.stream),
        ]
        var system = request.system
        if request.jsonMode {
            system = [system, "Reply with one JSON object and nothing else."].compactMap { $0 }.joined(
                separator: "\n\n")
        }
        if let system { body["system"] = .string(system) }
        if let temperature = request.temperature { body["temperature"] = .double(temperature) }
        if let topP = request.topP { body["top_p"] = .double(topP) }
        if !request.stop.isEmpty { body["stop_sequences"] = .array(request.stop.map(JSONValue.string)) }
        if !request.tools.isEmpty {
            body["tools"] = .array(
                request.tools.map {
                    var tool: JSONValue = ["name": .string($0.name), "input_schema": $0.parameters]
                    if let description = $0.description { tool["description"] = .string(description) }
                    return tool
                })
            switch request.toolChoice {
            case .auto: body["tool_choice"] = ["type": "auto"]
            case .none: body["tool_choice"] = ["type": "none"]
            case .required: body["tool_choice"] = ["type": "any"]
            case .named(let name): body["tool_choice"] = ["type": "tool", "name": .string(name)]
            }
        }
        return body
    }

    public func patchRequest(_ body: JSONValue, upstreamModel: String, maxTokens: Int64, stream: Bool) -> JSONValue {
        Read.patched(body, model: upstreamModel, maxTokens: maxTokens)
    }

    public func decodeResponse(_ body: JSONValue) throws(GatewayError) -> ChatResponse {
        guard let blocks = body["content"]?.array, let usage = body["usage"] else {
            throw OpenAIDialect.malformed("a message without content or usage")
        }
        var texts: [String] = []
        var calls: [ToolCall] = []
        for block in blocks {
            switch block["type"]?.string {
            case "text": texts.append(block["text"]?.string ?? "")
            case "tool_use":
                guard let id = block["id"]?.string, let name = block["name"]?.string else {
                    throw OpenAIDialect.malformed("a tool_use block without an id or name")
                }
                calls.append(ToolCall(id: id, name: name, arguments: (block["input"] ?? .object([:])).text))
            default: continue
            }
        }
        return ChatResponse(
            id: body["id"]?.string ?? "", text: texts.isEmpty ? nil : texts.joined(), toolCalls: calls,
            finish: Self.finish(body["stop_reason"]?.string), usage: try Self.usage(usage, input: nil))
    }

    /// Anthropic's usage block; cache writes are billed as input, cache reads as cached input.
    static func usage(_ usage: JSONValue, input known: Int64?) throws(GatewayError) -> TokenUsage {
        guard let output = usage["output_tokens"]?.int, output >= 0 else {
            throw OpenAIDialect.malformed("a usage block without output_tokens")
        }
        guard let input = usage["input_tokens"]?.int ?? known, input >= 0 else {
            throw OpenAIDialect.malformed("a usage block without input_tokens")
        }
        let written = max(0, usage["cache_creation_input_tokens"]?.int ?? 0)
        let read = max(0, usage["cache_read_input_tokens"]?.int ?? 0)
        return TokenUsage(input: input + written, cachedInput: read, output: output)
    }

    static func finish(_ reason: String?) -> FinishReason {
        switch reason {
        case "max_tokens": .length
        case "tool_use": .toolCalls
        case "refusal": .contentFilter
        default: .stop
        }
    }

    static func stopReason(_ reason: FinishReason) -> String {
        switch reason {
        case .stop: "end_turn"
        case .length: "max_tokens"
        case .toolCalls: "tool_use"
        case .contentFilter: "refusal"
        }
    }

    static func usageBlock(_ usage: TokenUsage) -> JSONValue {
        [
            "input_tokens": .int(usage.input), "output_tokens": .int(usage.output),
            "cache_read_input_tokens": .int(usage.cachedInput), "cache_creation_input_tokens": 0,
        ]
    }

    public func encodeResponse(_ response: ChatResponse, model: String) -> JSONValue {
        var content: [JSONValue] = []
        if let text = response.text, !text.isEmpty || response.toolCalls.isEmpty {
            content.append(["type": "text", "text": .string(text)])
        }
        for call in response.toolCalls {
            content.append([
                "type": "tool_use", "id": .string(call.id), "name": .string(call.name),
                "input": Read.argumentsObject(call.arguments),
            ])
        }
        return [
            "id": .string(response.id), "type": "message", "role": "assistant", "model": .string(model),
            "content": .array(content), "stop_reason": .string(Self.stopReason(response.finish)),
            "stop_sequence": .null, "usage": Self.usageBlock(response.usage),
        ]
    }

    public func streamDecoder() -> any ChatStreamDecoder { StreamDecoder() }

    public func streamEncoder(model: String, includeUsage: Bool) -> any ChatStreamEncoder {
        StreamEncoder(model: model)
    }

    public func errorBody(_ error: GatewayError, requestID: String) -> JSONValue {
        let type: String
        switch error.kind {
        case .invalidRequest: type = "invalid_request_error"
        case .authentication: type = "authentication_error"
        case .permission: type = "permission_error"
        case .notFound: type = "not_found_error"
        case .requestTooLarge: type = "request_too_large"
        case .capExceeded, .rateLimited: type = "rate_limit_error"
        case .overloaded: type = "overloaded_error"
        case .upstream, .upstreamTimeout, .internal: type = "api_error"
        }
        return [
            "type": "error", "error": ["type": .string(type), "message": .string(error.message)],
            "request_id": .string(requestID),
        ]
    }

    /// Reads Anthropic's stream event sequence.
    struct StreamDecoder: ChatStreamDecoder {
        private var input: Int64 = 0
        private var blockTools: [Int: Int] = [:]

        mutating func decode(_ event: ServerSentEvent) throws(GatewayError) -> [ChatStreamEvent] {
            // Anthropic's own error event ({"type": "error", …}) is read below, with its kind.
            let data = try Read.streamChunk(event)
            switch data["type"]?.string ?? event.name {
            case "message_start":
                let usage = data["message"]?["usage"]
                input = usage?["input_tokens"]?.int ?? 0
                var events: [ChatStreamEvent] = [.start(id: data["message"]?["id"]?.string ?? "", inputTokens: input)]
                if let usage { events.append(.usage(try AnthropicDialect.usage(usage, input: input))) }
                return events
            case "content_block_start":
                guard let block = data["content_block"], block["type"]?.string == "tool_use" else { return [] }
                let index = blockTools.count
                blockTools[Int(data["index"]?.int ?? 0)] = index
                return [.toolCall(index: index, id: block["id"]?.string ?? "", name: block["name"]?.string ?? "")]
            case "content_block_delta":
                let delta = data["delta"]
                switch delta?["type"]?.string {
                case "text_delta": return [.text(delta?["text"]?.string ?? "")]
                case "input_json_delta":
                    let tool = blockTools[Int(data["index"]?.int ?? 0)] ?? 0
                    return [.toolArguments(index: tool, delta?["partial_json"]?.string ?? "")]
                default: return []
                }
            case "message_delta":
                var events: [ChatStreamEvent] = []
                if let reason = data["delta"]?["stop_reason"]?.string {
                    events.append(.finish(AnthropicDialect.finish(reason)))
                }
                if let usage = data["usage"] { events.append(.usage(try AnthropicDialect.usage(usage, input: input))) }
                return events
            case "error":
                let kind = data["error"]?["type"]?.string
                throw GatewayError(
                    kind == "overloaded_error" ? .overloaded : .upstream, code: "upstream_error",
                    "the provider failed mid-stream: \(data["error"]?["message"]?.string ?? "no message")")
            default: return []
            }
        }
    }

    /// Writes Anthropic's stream event sequence.
    struct StreamEncoder: ChatStreamEncoder {
        let model: String
        private var blocks = 0
        private var openBlock = false
        private var textOpen = false
        private var inputTokens: Int64 = 0
        private var stopReason: FinishReason?

        init(model: String) { self.model = model }

        private func event(_ name: String, _ data: JSONValue) -> [UInt8] {
            Array("event: \(name)\ndata: ".utf8) + data.bytes + Array("\n\n".utf8)
        }

        private mutating func closeBlock() -> [UInt8] {
            guard openBlock else { return [] }
            openBlock = false
            textOpen = false
            blocks += 1
            return event("content_block_stop", ["type": "content_block_stop", "index": .int(Int64(blocks - 1))])
        }

        mutating func encode(_ event: ChatStreamEvent) -> [UInt8] {
            switch event {
            case .start(let id, let input):
                inputTokens = input ?? 0
                return self.event(
                    "message_start",
                    [
                        "type": "message_start",
                        "message": [
                            "id": .string(id.isEmpty ? "msg_agentry" : id), "type": "message", "role": "assistant",
                            "model": .string(model), "content": [], "stop_reason": .null, "stop_sequence": .null,
                            "usage": ["input_tokens": .int(inputTokens), "output_tokens": 0],
                        ],
                    ])
            case .text(let text):
                var bytes: [UInt8] = []
                if !textOpen {
                    bytes += closeBlock()
                    bytes += self.event(
                        "content_block_start",
                        [
                            "type": "content_block_start", "index": .int(Int64(blocks)),
                            "content_block": ["type": "text", "text": ""],
                        ])
                    openBlock = true
                    textOpen = true
                }
                return bytes
                    + self.event(
                        "content_block_delta",
                        [
                            "type": "content_block_delta", "index": .int(Int64(blocks)),
                            "delta": ["type": "text_delta", "text": .string(text)],
                        ])
            case .toolCall(_, let id, let name):
                var bytes = closeBlock()
                bytes += self.event(
                    "content_block_start",
                    [
                        "type": "content_block_start", "index": .int(Int64(blocks)),
                        "content_block": ["type": "tool_use", "id": .string(id), "name": .string(name), "input": [:]],
                    ])
                openBlock = true
                return bytes
            case .toolArguments(_, let text):
                return self.event(
                    "content_block_delta",
                    [
                        "type": "content_block_delta", "index": .int(Int64(blocks)),
                        "delta": ["type": "input_json_delta", "partial_json": .string(text)],
                    ])
            case .finish(let reason):
                stopReason = reason
                return []
            case .usage: return []
            }
        }

        /// Tracks the relayed stream's blocks (text, or a tool call) without writing them.
        mutating func observe(_ event: ChatStreamEvent) {
            switch event {
            case .start, .finish: _ = encode(event)
            case .text where !textOpen:
                _ = closeBlock()
                openBlock = true
                textOpen = true
            case .toolCall:
                _ = closeBlock()
                openBlock = true
            default: break
            }
        }

        mutating func end(usage: TokenUsage) -> [UInt8] {
            closeBlock()
                + event(
                    "message_delta",
                    [
                        "type": "message_delta",
                        "delta": [
                            "stop_reason": .string(AnthropicDialect.stopReason(stopReason ?? .stop)),
                            "stop_sequence": .null,
                        ],
                        "usage": [
                            "input_tokens": .int(usage.input), "output_tokens": .int(usage.output),
                            "cache_read_input_tokens": .int(usage.cachedInput),
                        ],
                    ]) + event("message_stop", ["type": "message_stop"])
        }
    }
}
