/// A vendor's wire format for chat calls: how its requests, replies, streams and errors read and
/// write. The gateway reads an inbound call in the caller's dialect and writes it to the
/// provider in the provider's dialect, both through `ChatRequest`.
public protocol ChatDialect: Sendable {
    /// Reads an inbound request body. `pathModel` is the model named in the URL (Gemini).
    func decodeRequest(_ body: JSONValue, pathModel: String?, stream: Bool) throws(GatewayError) -> ChatRequest
    /// Writes `request` for a provider speaking this dialect, to `upstreamModel`.
    func encodeRequest(_ request: ChatRequest, upstreamModel: String) -> JSONValue
    /// Changes only what the gateway governs in a same-dialect body: the model, the output
    /// allowance, and what the gateway needs to meter a stream. Every other field passes through.
    func patchRequest(_ body: JSONValue, upstreamModel: String, maxTokens: Int64, stream: Bool) -> JSONValue
    /// Reads a provider's whole reply.
    func decodeResponse(_ body: JSONValue) throws(GatewayError) -> ChatResponse
    /// Writes a whole reply to the caller, naming `model`.
    func encodeResponse(_ response: ChatResponse, model: String) -> JSONValue
    /// A reader of a provider's streamed reply.
    func streamDecoder() -> any ChatStreamDecoder
    /// A writer of a streamed reply to the caller. `includeUsage` is the caller's request for a
    /// usage chunk where the dialect makes it optional.
    func streamEncoder(model: String, includeUsage: Bool) -> any ChatStreamEncoder
    /// The vendor's error body for `error`.
    func errorBody(_ error: GatewayError, requestID: String) -> JSONValue
    /// The HTTP status `error` is answered with in this dialect.
    func status(of error: GatewayError) -> Int
}

extension ChatDialect {
    /// The gateway's status, unless a dialect needs another.
    public func status(of error: GatewayError) -> Int { error.status }
}

/// Reads a provider's stream one server-sent event at a time.
public protocol ChatStreamDecoder: Sendable {
    /// The canonical events of `event`; throws when the provider reports an error mid-stream.
    mutating func decode(_ event: ServerSentEvent) throws(GatewayError) -> [ChatStreamEvent]
    /// Whether an event forwarded unchanged to a same-dialect caller should be held back (a usage
    /// chunk the gateway asked for but the caller did not).
    func suppressed(_ event: ServerSentEvent, callerAskedForUsage: Bool) -> Bool
}

extension ChatStreamDecoder {
    /// Nothing is held back unless a dialect says so.
    public func suppressed(_ event: ServerSentEvent, callerAskedForUsage: Bool) -> Bool { false }
}

/// Writes a streamed reply to the caller in its dialect.
public protocol ChatStreamEncoder: Sendable {
    /// The wire bytes for `event` (possibly none until more is known).
    mutating func encode(_ event: ChatStreamEvent) -> [UInt8]
    /// The closing bytes once the reply is over, carrying `usage`.
    mutating func end(usage: TokenUsage) -> [UInt8]
    /// Follows `event` of a stream relayed unchanged, writing nothing, so that `end` can close
    /// what the relayed stream left open when the gateway cuts it.
    mutating func observe(_ event: ChatStreamEvent)
}

extension ChatStreamEncoder {
    /// A dialect whose end needs only the reply's id learns it from `.start`.
    public mutating func observe(_ event: ChatStreamEvent) {
        if case .start = event { _ = encode(event) }
    }
}

/// Reading helpers shared by the dialects: each refusal names the field.
enum Read {
    /// The body as an object.
    static func object(_ body: JSONValue) throws(GatewayError) -> [String: JSONValue] {
        guard let object = body.object else { throw .invalid("the request body must be a JSON object") }
        return object
    }

    /// A required string member.
    static func string(_ object: [String: JSONValue], _ key: String, at path: String? = nil)
        throws(GatewayError) -> String
    {
        guard let value = object[key]?.string else {
            throw .invalid("'\(path ?? key)' is required and must be a string", param: path ?? key)
        }
        return value
    }

    /// An optional string member.
    static func optionalString(_ object: [String: JSONValue], _ key: String, at path: String? = nil)
        throws(GatewayError) -> String?
    {
        guard let value = object[key], value != .null else { return nil }
        guard let text = value.string else { throw .invalid("'\(path ?? key)' must be a string", param: path ?? key) }
        return text
    }

    /// An optional positive integer member (a token count).
    static func positiveInt(_ object: [String: JSONValue], _ key: String) throws(GatewayError) -> Int64? {
        guard let value = object[key], value != .null else { return nil }
        guard let number = value.int, number >= 1 else {
            throw .invalid("'\(key)' must be a whole number of at least 1", param: key)
        }
        return number
    }

    /// An optional number member.
    static func number(_ object: [String: JSONValue], _ key: String) throws(GatewayError) -> Double? {
        guard let value = object[key], value != .null else { return nil }
        guard let number = value.double else { throw .invalid("'\(key)' must be a number", param: key) }
        return number
    }

    /// An optional boolean member.
    static func bool(_ object: [String: JSONValue], _ key: String) throws(GatewayError) -> Bool? {
        guard let value = object[key], value != .null else { return nil }
        guard let flag = value.bool else { throw .invalid("'\(key)' must be true or false", param: key) }
        return flag
    }

    /// An optional array member.
    static func array(_ object: [String: JSONValue], _ key: String, at path: String? = nil)
        throws(GatewayError) -> [JSONValue]?
    {
        guard let value = object[key], value != .null else { return nil }
        guard let items = value.array else {
            throw .invalid("'\(path ?? key)' must be an array", param: path ?? key)
        }
        return items
    }

    /// `stop` as one string or several.
    static func stops(_ value: JSONValue?, key: String) throws(GatewayError) -> [String] {
        switch value {
        case nil, .null?: return []
        case .string(let text)?: return [text]
        case .array(let items)?:
            var texts: [String] = []
            for item in items {
                guard let text = item.string else { throw .invalid("'\(key)' must hold strings", param: key) }
                texts.append(text)
            }
            return texts
        default: throw .invalid("'\(key)' must be a string or an array of strings", param: key)
        }
    }

    /// A streamed event's JSON object, or the provider's mid-stream error (`error` member) as a gateway error.
    static func streamChunk(_ event: ServerSentEvent) throws(GatewayError) -> JSONValue {
        guard let chunk = JSONValue.parse(Array(event.data.utf8)), chunk.object != nil else {
            throw OpenAIDialect.malformed("a stream event that is not JSON")
        }
        if let error = chunk["error"], error != .null, chunk["type"] != "error" {
            throw GatewayError(
                .upstream, code: "upstream_error",
                "the provider failed mid-stream: \(error["message"]?.string ?? "no message")")
        }
        return chunk
    }

    /// A message's `content` in OpenAI's and Cohere's shape: a string, null, or text parts (and, when
    /// `documents`, Cohere's document parts, whose data is a tool's result). Other parts are refused.
    static func text(_ content: JSONValue?, at path: String, documents: Bool = false) throws(GatewayError) -> String {
        switch content {
        case nil, .null?: return ""
        case .string(let text)?: return text
        case .array(let parts)?:
            var texts: [String] = []
            for (index, part) in parts.enumerated() {
                if part["type"]?.string == "text", let text = part["text"]?.string {
                    texts.append(text)
                } else if documents, part["type"]?.string == "document", let data = part["document"]?["data"] {
                    texts.append(data.string ?? data.text)
                } else {
                    throw .invalid("'\(path)[\(index)]' must be a text part; only text is supported", param: path)
                }
            }
            return texts.joined(separator: "\n")
        default: throw .invalid("'\(path)' must be a string or an array of text parts", param: path)
        }
    }

    /// Messages in OpenAI's and Cohere's shape (`role`, `content`, `tool_calls`, `tool_call_id`):
    /// turns with a role in `systemRoles` become the system prompt; tool results may be Cohere
    /// documents when `toolDocuments`.
    static func chatMessages(_ items: [JSONValue], systemRoles: [String], toolDocuments: Bool)
        throws(GatewayError) -> (system: [String], messages: [ChatMessage])
    {
        var system: [String] = []
        var messages: [ChatMessage] = []
        for (index, item) in items.enumerated() {
            let path = "messages[\(index)]"
            guard let message = item.object else { throw .invalid("'\(path)' must be an object", param: path) }
            let role = try string(message, "role", at: "\(path).role")
            let body = try text(message["content"], at: "\(path).content", documents: toolDocuments && role == "tool")
            switch role {
            case _ where systemRoles.contains(role): system.append(body)
            case "user": messages.append(ChatMessage(role: .user, text: body))
            case "assistant":
                let calls = try toolCalls(
                    try array(message, "tool_calls", at: "\(path).tool_calls"), at: "\(path).tool_calls"
                ) { at in .invalid("'\(at)' must be an object with an 'id' and a 'function' with a 'name'", param: at) }
                messages.append(ChatMessage(role: .assistant, text: body, toolCalls: calls))
            case "tool":
                let id = try string(message, "tool_call_id", at: "\(path).tool_call_id")
                messages.append(
                    ChatMessage(role: .tool, text: body, toolCallID: id, toolName: toolName(of: id, in: messages)))
            default:
                let roles = (systemRoles + ["user", "assistant", "tool"]).joined(separator: ", ")
                throw .invalid("'\(path).role' must be one of \(roles), not '\(role)'", param: "\(path).role")
            }
        }
        return (system, messages)
    }

    /// Function tools in OpenAI's and Cohere's shape (`{type: function, function: {name, description, parameters}}`).
    static func functionTools(_ items: [JSONValue]?) throws(GatewayError) -> [ChatTool] {
        var tools: [ChatTool] = []
        for (index, tool) in (items ?? []).enumerated() {
            let at = "tools[\(index)]"
            guard let function = tool["function"]?.object else {
                throw .invalid("'\(at)' must be a function tool with a 'function' object", param: at)
            }
            tools.append(
                ChatTool(
                    name: try string(function, "name", at: "\(at).function.name"),
                    description: try optionalString(function, "description", at: "\(at).function.description"),
                    parameters: function["parameters"] ?? .object(["type": "object", "properties": .object([:])])))
        }
        return tools
    }

    /// Tool calls in OpenAI's and Cohere's shape (`{id, function: {name, arguments}}`); one without
    /// an id or name is the error `fault` makes of its path.
    static func toolCalls(_ items: [JSONValue]?, at path: String, fault: (String) -> GatewayError)
        throws(GatewayError) -> [ToolCall]
    {
        var calls: [ToolCall] = []
        for (index, call) in (items ?? []).enumerated() {
            guard let id = call["id"]?.string, let name = call["function"]?["name"]?.string else {
                throw fault("\(path)[\(index)]")
            }
            calls.append(ToolCall(id: id, name: name, arguments: call["function"]?["arguments"]?.string ?? "{}"))
        }
        return calls
    }

    /// A same-dialect body with only the model and the output allowance changed (Anthropic, Cohere).
    static func patched(_ body: JSONValue, model: String, maxTokens: Int64) -> JSONValue {
        var body = body
        body["model"] = .string(model)
        body["max_tokens"] = .int(maxTokens)
        return body
    }

    /// A tool call's argument text as a JSON object (an empty object when it is not one).
    static func argumentsObject(_ text: String) -> JSONValue {
        guard let value = JSONValue.parse(Array(text.utf8)), value.object != nil else { return .object([:]) }
        return value
    }

    /// The function name of the tool call `id` among the assistant turns of `messages`.
    static func toolName(of id: String?, in messages: [ChatMessage]) -> String? {
        guard let id else { return nil }
        for message in messages.reversed() {
            if let call = message.toolCalls.first(where: { $0.id == id }) { return call.name }
        }
        return nil
    }
}

extension TokenUsage {
    /// All tokens counted, input and output.
    public var total: Int64 { input + cachedInput + output }
}
