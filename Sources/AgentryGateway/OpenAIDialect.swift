/// OpenAI's chat completions format, also spoken by Mistral and by self-hosted servers (vLLM,
/// Ollama, llama.cpp server, LM Studio).
public struct OpenAIDialect: ChatDialect {
    /// The dialect.
    public init() {}

    public func decodeRequest(_ body: JSONValue, pathModel: String?, stream: Bool) throws(GatewayError) -> ChatRequest {
        let object = try Read.object(body)
        let model = try Read.string(object, "model")
        guard let items = try Read.array(object, "messages"), !items.isEmpty else {
            throw .invalid("'messages' is required and must be a non-empty array", param: "messages")
        }
        if let n = object["n"], n != .null, n.int != 1 {
            throw .invalid("the gateway serves one choice per call: 'n' must be 1", param: "n")
        }
        let (system, messages) = try Read.chatMessages(
            items, systemRoles: ["system", "developer"], toolDocuments: false)
        let tools = try Read.functionTools(try Read.array(object, "tools"))
        let choice: ToolChoice
        switch object["tool_choice"] {
        case nil, .null?, .string("auto")?: choice = .auto
        case .string("none")?: choice = .none
        case .string("required")?: choice = .required
        case .object(let named)?:
            guard let name = named["function"]?["name"]?.string else {
                throw .invalid("'tool_choice.function.name' is required", param: "tool_choice")
            }
            choice = .named(name)
        default: throw .invalid("'tool_choice' must be auto, none, required or a named function", param: "tool_choice")
        }
        let format = object["response_format"]?["type"]?.string
        let legacyMax = try Read.positiveInt(object, "max_tokens")
        return ChatRequest(
            model: model, system: system.isEmpty ? nil : system.joined(separator: "\n\n"), messages: messages,
            maxTokens: try Read.positiveInt(object, "max_completion_tokens") ?? legacyMax,
            temperature: try Read.number(object, "temperature"), topP: try Read.number(object, "top_p"),
            stop: try Read.stops(object["stop"], key: "stop"), tools: tools, toolChoice: choice,
            jsonMode: format == "json_object" || format == "json_schema",
            stream: try Read.bool(object, "stream") ?? false)
    }

    public func encodeRequest(_ request: ChatRequest, upstreamModel: String) -> JSONValue {
        var messages: [JSONValue] = []
        if let system = request.system { messages.append(["role": "system", "content": .string(system)]) }
        for message in request.messages {
            switch message.role {
            case .user: messages.append(["role": "user", "content": .string(message.text)])
            case .assistant:
                var turn: JSONValue = [
                    "role": "assistant", "content": message.text.isEmpty ? .null : .string(message.text),
                ]
                if !message.toolCalls.isEmpty {
                    turn["tool_calls"] = .array(
                        message.toolCalls.map {
                            [
                                "id": .string($0.id), "type": "function",
                                "function": ["name": .string($0.name), "arguments": .string($0.arguments)],
                            ]
                        })
                }
                messages.append(turn)
            case .tool:
                messages.append(
                    ["role": "tool", "tool_call_id": .optional(message.toolCallID), "content": .string(message.text)])
            }
        }
        var body: JSONValue = [
            "model": .string(upstreamModel), "messages": .array(messages), "stream": .bool(request.stream),
        ]
        if let maxTokens = request.maxTokens { body["max_tokens"] = .int(maxTokens) }
        if let temperature = request.temperature { body["temperature"] = .double(temperature) }
        if let topP = request.topP { body["top_p"] = .double(topP) }
        if !request.stop.isEmpty { body["stop"] = .array(request.stop.map(JSONValue.string)) }
        if !request.tools.isEmpty {
            body["tools"] = .array(
                request.tools.map {
                    [
                        "type": "function",
                        "function": [
                            "name": .string($0.name), "description": .optional($0.description),
                            "parameters": $0.parameters,
                        ],
                    ]
                })
            switch request.toolChoice {
            case .auto: body["tool_choice"] = "auto"
            case .none: body["tool_choice"] = "none"
            case .required: body["tool_choice"] = "required"
            case .named(let name): body["tool_choice"] = ["type": "function", "function": ["name": .string(name)]]
            }
        }
        if request.jsonMode { body["response_format"] = ["type": "json_object"] }
        if request.stream { body["stream_options"] = ["include_usage": true] }
        return body
    }

    public func patchRequest(_ body: JSONValue, upstreamModel: String, maxTokens: Int64, stream: Bool) -> JSONValue {
        var body = body
        body["model"] = .string(upstreamModel)
        if body["max_completion_tokens"] != nil, body["max_completion_tokens"] != .null {
            body["max_completion_tokens"] = .int(maxTokens)
        } else {
            body["max_tokens"] = .int(maxTokens)
        }
        if stream {
            var options = body["stream_options"]?.object ?? [:]
            options["include_usage"] = true
            body["stream_options"] = .object(options)
        }
        return body
    }

    public func decodeResponse(_ body: JSONValue) throws(GatewayError) -> ChatResponse {
        guard let choice = body["choices"]?.array?.first, let message = choice["message"], let usage = body["usage"]
        else { throw Self.malformed("a chat completion without choices or usage") }
        let calls = try Read.toolCalls(message["tool_calls"]?.array, at: "tool_calls") { _ in
            Self.malformed("a tool call without an id or name")
        }
        return ChatResponse(
            id: body["id"]?.string ?? "", text: message["content"]?.string, toolCalls: calls,
            finish: Self.finish(choice["finish_reason"]?.string), usage: try Self.usage(usage))
    }

    /// OpenAI's usage block: prompt tokens include the cached ones.
    static func usage(_ usage: JSONValue) throws(GatewayError) -> TokenUsage {
        guard let prompt = usage["prompt_tokens"]?.int, let completion = usage["completion_tokens"]?.int,
            prompt >= 0, completion >= 0
        else { throw malformed("a usage block without token counts") }
        let cached = min(prompt, max(0, usage["prompt_tokens_details"]?["cached_tokens"]?.int ?? 0))
        return TokenUsage(input: prompt - cached, cachedInput: cached, output: completion)
    }

    static func finish(_ reason: String?) -> FinishReason {
        switch reason {
        case "length": .length
        case "tool_calls", "function_call": .toolCalls
        case "content_filter": .contentFilter
        default: .stop
        }
    }

    static func finishText(_ reason: FinishReason) -> String {
        switch reason {
        case .stop: "stop"
        case .length: "length"
        case .toolCalls: "tool_calls"
        case .contentFilter: "content_filter"
        }
    }

    static func malformed(_ what: String) -> GatewayError {
        GatewayError(.upstream, code: "upstream_malformed", "the provider sent \(what)")
    }

    public func encodeResponse(_ response: ChatResponse, model: String) -> JSONValue {
        var message: JSONValue = ["role": "assistant", "content": .optional(response.text), "refusal": .null]
        if !response.toolCalls.isEmpty { message["tool_calls"] = Self.toolCalls(response.toolCalls, indexed: false) }
        return [
            "id": .string(response.id), "object": "chat.completion", "created": 0, "model": .string(model),
            "choices": [
                [
                    "index": 0, "message": message, "finish_reason": .string(Self.finishText(response.finish)),
                    "logprobs": .null,
                ]
            ],
            "usage": Self.usageBlock(response.usage),
        ]
    }

    static func toolCalls(_ calls: [ToolCall], indexed: Bool) -> JSONValue {
        .array(
            calls.enumerated().map { index, call in
                var item: JSONValue = [
                    "id": .string(call.id), "type": "function",
                    "function": ["name": .string(call.name), "arguments": .string(call.arguments)],
                ]
                if indexed { item["index"] = .int(Int64(index)) }
                return item
            })
    }

    static func usageBlock(_ usage: TokenUsage) -> JSONValue {
        [
            "prompt_tokens": .int(usage.input + usage.cachedInput), "completion_tokens": .int(usage.output),
            "total_tokens": .int(usage.total), "prompt_tokens_details": ["cached_tokens": .int(usage.cachedInput)],
        ]
    }

    public func streamDecoder() -> any ChatStreamDecoder { StreamDecoder() }

    public func streamEncoder(model: String, includeUsage: Bool) -> any ChatStreamEncoder {
        StreamEncoder(model: model, includeUsage: includeUsage)
    }

    public func errorBody(_ error: GatewayError, requestID: String) -> JSONValue {
        let type: String
        switch error.kind {
        case .invalidRequest, .notFound, .requestTooLarge: type = "invalid_request_error"
        case .authentication: type = "authentication_error"
        case .permission: type = "permission_error"
        case .capExceeded: type = "insufficient_quota"
        case .rateLimited: type = "rate_limit_error"
        case .upstream, .upstreamTimeout, .overloaded, .internal: type = "api_error"
        }
        return [
            "error": [
                "message": .string(error.message), "type": .string(type), "param": .optional(error.param),
                "code": .string(error.code),
            ]
        ]
    }

    /// Reads `chat.completion.chunk` events.
    struct StreamDecoder: ChatStreamDecoder {
        private var started = false
        private var callIDs: [Int: String] = [:]

        mutating func decode(_ event: ServerSentEvent) throws(GatewayError) -> [ChatStreamEvent] {
            if event.data == "[DONE]" { return [] }
            let chunk = try Read.streamChunk(event)
            var events: [ChatStreamEvent] = []
            if !started {
                started = true
                events.append(.start(id: chunk["id"]?.string ?? "", inputTokens: nil))
            }
            if let choice = chunk["choices"]?.array?.first {
                let delta = choice["delta"]
                if let text = delta?["content"]?.string, !text.isEmpty { events.append(.text(text)) }
                for call in delta?["tool_calls"]?.array ?? [] {
                    let index = Int(call["index"]?.int ?? 0)
                    if let id = call["id"]?.string, callIDs[index] == nil {
                        callIDs[index] = id
                        events.append(.toolCall(index: index, id: id, name: call["function"]?["name"]?.string ?? ""))
                    }
                    if let arguments = call["function"]?["arguments"]?.string, !arguments.isEmpty {
                        events.append(.toolArguments(index: index, arguments))
                    }
                }
                if let reason = choice["finish_reason"]?.string { events.append(.finish(OpenAIDialect.finish(reason))) }
            }
            if let usage = chunk["usage"], usage != .null { events.append(.usage(try OpenAIDialect.usage(usage))) }
            return events
        }

        func suppressed(_ event: ServerSentEvent, callerAskedForUsage: Bool) -> Bool {
            guard !callerAskedForUsage, event.data.hasPrefix("{"), let chunk = JSONValue.parse(Array(event.data.utf8))
            else { return false }
            return chunk["choices"]?.array?.isEmpty == true && chunk["usage"] != nil && chunk["usage"] != .null
        }
    }

    /// Writes `chat.completion.chunk` events.
    struct StreamEncoder: ChatStreamEncoder {
        let model: String
        let includeUsage: Bool
        private var id = ""
        private var finished: FinishReason?
        private var toolIndices: [Int: Int] = [:]

        init(model: String, includeUsage: Bool) {
            self.model = model
            self.includeUsage = includeUsage
        }

        private func chunk(_ choices: JSONValue, usage: JSONValue = .null) -> [UInt8] {
            let body: JSONValue = [
                "id": .string(id), "object": "chat.completion.chunk", "created": 0, "model": .string(model),
                "choices": choices, "usage": usage,
            ]
            return Array("data: ".utf8) + body.bytes + Array("\n\n".utf8)
        }

        private func delta(_ delta: JSONValue, finish: FinishReason? = nil) -> [UInt8] {
            chunk([
                [
                    "index": 0, "delta": delta,
                    "finish_reason": finish.map { .string(OpenAIDialect.finishText($0)) } ?? .null,
                ]
            ])
        }

        mutating func encode(_ event: ChatStreamEvent) -> [UInt8] {
            switch event {
            case .start(let id, _):
                self.id = id.isEmpty ? "chatcmpl-agentry" : id
                return delta(["role": "assistant", "content": ""])
            case .text(let text): return delta(["content": .string(text)])
            case .toolCall(let index, let id, let name):
                let position = toolIndices.count
                toolIndices[index] = position
                return delta([
                    "tool_calls": [
                        [
                            "index": .int(Int64(position)), "id": .string(id), "type": "function",
                            "function": ["name": .string(name), "arguments": ""],
                        ]
                    ]
                ])
            case .toolArguments(let index, let text):
                let position = toolIndices[index] ?? index
                return delta([
                    "tool_calls": [["index": .int(Int64(position)), "function": ["arguments": .string(text)]]]
                ])
            case .finish(let reason):
                finished = reason
                return delta(.object([:]), finish: reason)
            case .usage: return []
            }
        }

        mutating func end(usage: TokenUsage) -> [UInt8] {
            var bytes: [UInt8] = []
            if finished == nil { bytes += delta(.object([:]), finish: .stop) }
            if includeUsage { bytes += chunk([], usage: OpenAIDialect.usageBlock(usage)) }
            return bytes + Array("data: [DONE]\n\n".utf8)
        }
    }
}
