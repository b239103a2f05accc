/// Google's Gemini `generateContent` format (the model is named in the URL).
public struct GeminiDialect: ChatDialect {
    /// The dialect.
    public init() {}

    public func decodeRequest(_ body: JSONValue, pathModel: String?, stream: Bool) throws(GatewayError) -> ChatRequest {
        let object = try Read.object(body)
        guard let model = pathModel, !model.isEmpty else { throw .invalid("the URL must name a model", param: "model") }
        guard let contents = try Read.array(object, "contents"), !contents.isEmpty else {
            throw .invalid("contents is required and must be a non-empty array", param: "contents")
        }
        var messages: [ChatMessage] = []
        var callCount = 0
        for (index, content) in contents.enumerated() {
            let path = "contents[\(index)]"
            let role = content["role"]?.string ?? "user"
            guard role == "user" || role == "model" || role == "function" else {
                throw .invalid("\(path).role must be user or model, not '\(role)'", param: path)
            }
            guard let parts = content["parts"]?.array else {
                throw .invalid("\(path).parts is required and must be an array", param: path)
            }
            var texts: [String] = []
            var calls: [ToolCall] = []
            for (position, part) in parts.enumerated() {
                if let text = part["text"]?.string {
                    texts.append(text)
                } else if let call = part["functionCall"] {
                    guard let name = call["name"]?.string else {
                        throw .invalid("\(path).parts[\(position)].functionCall.name is required", param: path)
                    }
                    calls.append(
                        ToolCall(
                            id: call["id"]?.string ?? "call_\(callCount)", name: name,
                            arguments: (call["args"] ?? .object([:])).text))
                    callCount += 1
                } else if let result = part["functionResponse"] {
                    guard let name = result["name"]?.string else {
                        throw .invalid("\(path).parts[\(position)].functionResponse.name is required", param: path)
                    }
                    let id = result["id"]?.string ?? Self.lastCall(named: name, in: messages) ?? name
                    messages.append(
                        ChatMessage(
                            role: .tool, text: (result["response"] ?? .object([:])).text, toolCallID: id, toolName: name
                        ))
                } else {
                    throw .invalid(
                        "\(path).parts[\(position)] must hold text, a functionCall or a functionResponse; only these are supported",
                        param: path)
                }
            }
            if !texts.isEmpty || !calls.isEmpty {
                messages.append(
                    ChatMessage(
                        role: role == "model" ? .assistant : .user, text: texts.joined(), toolCalls: calls))
            }
        }
        let system = object["systemInstruction"]?["parts"]?.array?.compactMap { $0["text"]?.string }.joined(
            separator: "\n")
        let config = object["generationConfig"]?.object ?? [:]
        var tools: [ChatTool] = []
        for tool in try Read.array(object, "tools") ?? [] {
            for declaration in tool["functionDeclarations"]?.array ?? [] {
                guard let name = declaration["name"]?.string else {
                    throw .invalid("tools[].functionDeclarations[].name is required", param: "tools")
                }
                tools.append(
                    ChatTool(
                        name: name, description: declaration["description"]?.string,
                        parameters: declaration["parametersJsonSchema"] ?? declaration["parameters"]
                            ?? .object(["type": "object"])))
            }
        }
        var choice = ToolChoice.auto
        if let calling = object["toolConfig"]?["functionCallingConfig"] {
            switch calling["mode"]?.string {
            case "NONE": choice = .none
            case "ANY":
                if let names = calling["allowedFunctionNames"]?.array, names.count == 1, let name = names[0].string {
                    choice = .named(name)
                } else {
                    choice = .required
                }
            default: choice = .auto
            }
        }
        return ChatRequest(
            model: model, system: system?.isEmpty == false ? system : nil, messages: messages,
            maxTokens: try Read.positiveInt(config, "maxOutputTokens"),
            temperature: try Read.number(config, "temperature"),
            topP: try Read.number(config, "topP"), stop: try Read.stops(config["stopSequences"], key: "stopSequences"),
            tools: tools, toolChoice: choice, jsonMode: config["responseMimeType"]?.string == "application/json",
            stream: stream)
    }

    private static func lastCall(named name: String, in messages: [ChatMessage]) -> String? {
        for message in messages.reversed() {
            if let call = message.toolCalls.last(where: { $0.name == name }) { return call.id }
        }
        return nil
    }

    public func encodeRequest(_ request: ChatRequest, upstreamModel: String) -> JSONValue {
        var contents: [JSONValue] = []
        for message in request.messages {
            switch message.role {
            case .user: contents.append(["role": "user", "parts": [["text": .string(message.text)]]])
            case .assistant:
                var parts: [JSONValue] = []
                if !message.text.isEmpty { parts.append(["text": .string(message.text)]) }
                for call in message.toolCalls {
                    parts.append([
                        "functionCall": ["name": .string(call.name), "args": Read.argumentsObject(call.arguments)]
                    ])
                }
                contents.append(["role": "model", "parts": .array(parts)])
            case .tool:
                let name = message.toolName ?? Read.toolName(of: message.toolCallID, in: request.messages) ?? "tool"
                let response: JSONValue =
                    JSONValue.parse(Array(message.text.utf8)).flatMap { $0.object != nil ? $0 : nil }
                    ?? ["result": .string(message.text)]
                contents.append([
                    "role": "user", "parts": [["functionResponse": ["name": .string(name), "response": response]]],
                ])
            }
        }
        var config: JSONValue = [:]
        if let maxTokens = request.maxTokens { config["maxOutputTokens"] = .int(maxTokens) }
        if let temperature = request.temperature { config["temperature"] = .double(temperature) }
        if let topP = request.topP { config["topP"] = .double(topP) }
        if !request.stop.isEmpty { config["stopSequences"] = .array(request.stop.map(JSONValue.string)) }
        if request.jsonMode { config["responseMimeType"] = "application/json" }
        var body: JSONValue = ["contents": .array(contents), "generationConfig": config]
        if let system = request.system { body["systemInstruction"] = ["parts": [["text": .string(system)]]] }
        if !request.tools.isEmpty {
            body["tools"] = [
                [
                    "functionDeclarations": .array(
                        request.tools.map {
                            [
                                "name": .string($0.name), "description": .string($0.description ?? ""),
                                "parameters": $0.parameters,
                            ]
                        })
                ]
            ]
            let mode: JSONValue
            switch request.toolChoice {
            case .auto: mode = ["mode": "AUTO"]
            case .none: mode = ["mode": "NONE"]
            case .required: mode = ["mode": "ANY"]
            case .named(let name): mode = ["mode": "ANY", "allowedFunctionNames": [.string(name)]]
            }
            body["toolConfig"] = ["functionCallingConfig": mode]
        }
        return body
    }

    public func patchRequest(_ body: JSONValue, upstreamModel: String, maxTokens: Int64, stream: Bool) -> JSONValue {
        var body = body
        var config = body["generationConfig"]?.object ?? [:]
        config["maxOutputTokens"] = .int(maxTokens)
        body["generationConfig"] = .object(config)
        return body
    }

    public func decodeResponse(_ body: JSONValue) throws(GatewayError) -> ChatResponse {
        guard let usage = body["usageMetadata"] else {
            throw OpenAIDialect.malformed("a Gemini reply without usageMetadata")
        }
        let candidate = body["candidates"]?.array?.first
        var texts: [String] = []
        var calls: [ToolCall] = []
        for part in candidate?["content"]?["parts"]?.array ?? [] {
            if let text = part["text"]?.string, part["thought"]?.bool != true { texts.append(text) }
            if let call = part["functionCall"], let name = call["name"]?.string {
                calls.append(
                    ToolCall(
                        id: call["id"]?.string ?? "call_\(calls.count)", name: name,
                        arguments: (call["args"] ?? .object([:])).text))
            }
        }
        return ChatResponse(
            id: body["responseId"]?.string ?? "", text: texts.isEmpty ? nil : texts.joined(), toolCalls: calls,
            finish: calls.isEmpty ? Self.finish(candidate?["finishReason"]?.string) : .toolCalls,
            usage: try Self.usage(usage))
    }

    /// Gemini's usage metadata: the prompt count includes cached tokens; thinking is output.
    static func usage(_ usage: JSONValue) throws(GatewayError) -> TokenUsage {
        guard let prompt = usage["promptTokenCount"]?.int, prompt >= 0 else {
            throw OpenAIDialect.malformed("usageMetadata without promptTokenCount")
        }
        let cached = min(prompt, max(0, usage["cachedContentTokenCount"]?.int ?? 0))
        let output = max(0, usage["candidatesTokenCount"]?.int ?? 0) + max(0, usage["thoughtsTokenCount"]?.int ?? 0)
        return TokenUsage(input: prompt - cached, cachedInput: cached, output: output)
    }

    static func finish(_ reason: String?) -> FinishReason {
        switch reason {
        case "MAX_TOKENS": .length
        case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII": .contentFilter
        default: .stop
        }
    }

    static func finishText(_ reason: FinishReason) -> String {
        switch reason {
        case .stop, .toolCalls: "STOP"
        case .length: "MAX_TOKENS"
        case .contentFilter: "SAFETY"
        }
    }

    static func usageBlock(_ usage: TokenUsage) -> JSONValue {
        [
            "promptTokenCount": .int(usage.input + usage.cachedInput), "candidatesTokenCount": .int(usage.output),
            "cachedContentTokenCount": .int(usage.cachedInput), "totalTokenCount": .int(usage.total),
        ]
    }

    static func candidate(parts: [JSONValue], finish: FinishReason?) -> JSONValue {
        var candidate: JSONValue = ["content": ["role": "model", "parts": .array(parts)], "index": 0]
        if let finish { candidate["finishReason"] = .string(finishText(finish)) }
        return candidate
    }

    public func encodeResponse(_ response: ChatResponse, model: String) -> JSONValue {
        var parts: [JSONValue] = []
        if let text = response.text { parts.append(["text": .string(text)]) }
        for call in response.toolCalls {
            parts.append(["functionCall": ["name": .string(call.name), "args": Read.argumentsObject(call.arguments)]])
        }
        return [
            "candidates": [Self.candidate(parts: parts, finish: response.finish)],
            "usageMetadata": Self.usageBlock(response.usage), "modelVersion": .string(model),
            "responseId": .string(response.id),
        ]
    }

    public func streamDecoder() -> any ChatStreamDecoder { StreamDecoder() }

    public func streamEncoder(model: String, includeUsage: Bool) -> any ChatStreamEncoder {
        StreamEncoder(model: model)
    }

    public func errorBody(_ error: GatewayError, requestID: String) -> JSONValue {
        let status: String
        switch error.kind {
        case .invalidRequest, .requestTooLarge: status = "INVALID_ARGUMENT"
        case .authentication: status = "UNAUTHENTICATED"
        case .permission: status = "PERMISSION_DENIED"
        case .notFound: status = "NOT_FOUND"
        case .capExceeded, .rateLimited: status = "RESOURCE_EXHAUSTED"
        case .upstreamTimeout: status = "DEADLINE_EXCEEDED"
        case .overloaded: status = "UNAVAILABLE"
        case .upstream, .internal: status = "INTERNAL"
        }
        return [
            "error": ["code": .int(Int64(error.status)), "message": .string(error.message), "status": .string(status)]
        ]
    }

    /// Reads Gemini's stream: every event is a whole `GenerateContentResponse` chunk.
    struct StreamDecoder: ChatStreamDecoder {
        private var started = false
        private var calls = 0

        mutating func decode(_ event: ServerSentEvent) throws(GatewayError) -> [ChatStreamEvent] {
            let chunk = try Read.streamChunk(event)
            var events: [ChatStreamEvent] = []
            if !started {
                started = true
                events.append(.start(id: chunk["responseId"]?.string ?? "", inputTokens: nil))
            }
            let candidate = chunk["candidates"]?.array?.first
            var madeCall = false
            for part in candidate?["content"]?["parts"]?.array ?? [] {
                if let text = part["text"]?.string, part["thought"]?.bool != true, !text.isEmpty {
                    events.append(.text(text))
                }
                if let call = part["functionCall"], let name = call["name"]?.string {
                    events.append(.toolCall(index: calls, id: call["id"]?.string ?? "call_\(calls)", name: name))
                    events.append(.toolArguments(index: calls, (call["args"] ?? .object([:])).text))
                    calls += 1
                    madeCall = true
                }
            }
            if let reason = candidate?["finishReason"]?.string {
                events.append(.finish(madeCall || calls > 0 ? .toolCalls : GeminiDialect.finish(reason)))
            }
            if let usage = chunk["usageMetadata"], usage["promptTokenCount"] != nil {
                events.append(.usage(try GeminiDialect.usage(usage)))
            }
            return events
        }
    }

    /// Writes Gemini's stream; a tool call's arguments are sent whole once they are complete.
    struct StreamEncoder: ChatStreamEncoder {
        let model: String
        private var id = ""
        private var calls: [(name: String, arguments: String)] = []
        private var finish: FinishReason?

        init(model: String) { self.model = model }

        private func chunk(_ parts: [JSONValue], finish: FinishReason? = nil, usage: TokenUsage? = nil) -> [UInt8] {
            var body: JSONValue = [
                "candidates": [GeminiDialect.candidate(parts: parts, finish: finish)], "modelVersion": .string(model),
                "responseId": .string(id),
            ]
            if let usage { body["usageMetadata"] = GeminiDialect.usageBlock(usage) }
            return Array("data: ".utf8) + body.bytes + Array("\r\n\r\n".utf8)
        }

        mutating func encode(_ event: ChatStreamEvent) -> [UInt8] {
            switch event {
            case .start(let id, _):
                self.id = id
                return []
            case .text(let text): return chunk([["text": .string(text)]])
            case .toolCall(_, _, let name):
                calls.append((name, ""))
                return []
            case .toolArguments(let index, let text):
                if calls.indices.contains(index) { calls[index].arguments += text }
                return []
            case .finish(let reason):
                finish = reason
                return []
            case .usage: return []
            }
        }

        mutating func end(usage: TokenUsage) -> [UInt8] {
            let parts: [JSONValue] = calls.map {
                ["functionCall": ["name": .string($0.name), "args": Read.argumentsObject($0.arguments)]]
            }
            return chunk(parts, finish: finish ?? .stop, usage: usage)
        }
    }
}
