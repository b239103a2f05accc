import Foundation
import Hummingbird
import NIOFoundationCompat

/// A stand-in for OpenAI's API that speaks its wire format: `GET /v1/models`,
/// `POST /v1/chat/completions` (plain, and streamed as server-sent events with an optional usage
/// chunk), tool calls, JSON mode, `POST /v1/embeddings`, and OpenAI's error bodies. Replies are
/// deterministic, so tests and benchmarks can check them to the token.
///
/// A model name ending in `@<n>ms` answers n milliseconds late (`SimulatedLatency`).
/// Model names choose behaviour: any name works, except `sim-fail-500` (500 `server_error`),
/// `sim-rate-limited` (429 with `retry-after`) and `sim-missing` (404 `model_not_found`).
public struct OpenAISimulator: Sendable {
    /// The models `GET /v1/models` lists.
    public let models: [String]

    /// A simulator listing `models`.
    public init(models: [String] = ["sim-gpt-small", "sim-embed"]) {
        self.models = models
    }

    /// The simulator's routes under `/v1`, added to `router`.
    public func register<Routes: RouterMethods>(on router: Routes) {
        let v1 = router.group("v1")
        v1.get("models") { request, _ in try self.guarded(request) { try SimulatorJSON.response(self.modelList()) } }
        v1.post("chat/completions") { request, _ in
            let body = try await request.body.collect(upTo: SimulatorJSON.bodyBytesMax)
            try await SimulatedLatency.wait(body: Data(buffer: body))
            return try self.guarded(request) { try self.chat(Data(buffer: body)) }
        }
        v1.post("embeddings") { request, _ in
            let body = try await request.body.collect(upTo: SimulatorJSON.bodyBytesMax)
            return try self.guarded(request) { try self.embeddings(Data(buffer: body)) }
        }
    }

    /// Answers 401 without a bearer key, OpenAI's error body for `SimulatorError`s, else `body`.
    private func guarded(_ request: Request, _ body: () throws -> Response) throws -> Response {
        guard let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer "),
            authorization.count > "Bearer ".count
        else {
            return try Self.error(
                SimulatorError(
                    status: .unauthorized, type: "invalid_request_error", code: "invalid_api_key",
                    message: "You didn't provide an API key."))
        }
        do {
            return try body()
        } catch let error as SimulatorError {
            return try Self.error(error)
        }
    }

    private func modelList() -> [String: Any] {
        [
            "object": "list",
            "data": models.map {
                ["id": $0, "object": "model", "created": 1_767_225_600, "owned_by": "agentry-simulator"]
            },
        ]
    }

    /// `POST /v1/chat/completions`.
    private func chat(_ data: Data) throws -> Response {
        let request = try SimulatorJSON.object(data)
        let model = try Self.model(request)
        guard let messages = request["messages"] as? [[String: Any]], !messages.isEmpty else {
            throw SimulatorError.invalid("'messages' must be a non-empty array", param: "messages")
        }
        let maxTokens = (request["max_completion_tokens"] ?? request["max_tokens"]).flatMap { $0 as? Int }
        if let maxTokens, maxTokens < 1 {
            throw SimulatorError.invalid("max_tokens must be at least 1", param: "max_tokens")
        }
        let prompt = messages.map { SimulatedTokens.count(SimulatorJSON.messageText($0["content"])) + 3 }.reduce(3, +)
        let lastUser =
            messages.last { ($0["role"] as? String) == "user" }.map { SimulatorJSON.messageText($0["content"]) } ?? ""
        // After a tool's answer, the reply is about what the tool said.
        let toolResult = messages.last.flatMap { $0["role"] as? String == "tool" ? $0["content"] : nil }
        var words = SimulatedTokens.words(
            toolResult.map { "Simulated reply to the tool's result: \(SimulatorJSON.messageText($0))" }
                ?? "Simulated reply to: \(lastUser)")
        var finish = "stop"
        if let maxTokens, words.count > maxTokens {
            words = Array(words.prefix(maxTokens))
            finish = "length"
        }
        var content: String? = words.joined(separator: " ")
        var toolCalls: [[String: Any]]?
        if let call = Self.toolCall(request, lastUser: lastUser) {
            (content, toolCalls, finish) = (nil, [call], "tool_calls")
        } else if let format = request["response_format"] as? [String: Any], format["type"] as? String == "json_object"
        {
            content = try SimulatorJSON.text(["reply": content ?? ""])
        }
        let completion =
            toolCalls.map { SimulatedTokens.count((try? SimulatorJSON.text($0)) ?? "") }
            ?? SimulatedTokens.count(content ?? "")
        let usage: [String: Any] = [
            "prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
        ]
        let id = "chatcmpl-sim-\(SimulatedTokens.digest(data).prefix(16))"
        if request["stream"] as? Bool == true {
            let includeUsage = (request["stream_options"] as? [String: Any])?["include_usage"] as? Bool == true
            return Self.stream(
                id: id, model: model, content: content, toolCalls: toolCalls, finish: finish,
                usage: includeUsage ? usage : nil)
        }
        var message: [String: Any] = ["role": "assistant", "content": content ?? NSNull(), "refusal": NSNull()]
        if let toolCalls { message["tool_calls"] = toolCalls }
        return try SimulatorJSON.response([
            "id": id, "object": "chat.completion", "created": 1_767_225_600, "model": model,
            "choices": [["index": 0, "message": message, "finish_reason": finish, "logprobs": NSNull()]],
            "usage": usage, "system_fingerprint": "fp_sim",
        ])
    }

    /// The tool call the simulator makes: to the named function when `tool_choice` names one,
    /// else to the first tool when `tool_choice` is `required`, or when the user asks to "call"
    /// one and no tool has answered yet (the function whose name the user wrote, else the first).
    /// The arguments are the JSON object in the user's text, else `{"query": <text>}`.
    private static func toolCall(_ request: [String: Any], lastUser: String) -> [String: Any]? {
        guard let tools = request["tools"] as? [[String: Any]], !tools.isEmpty else { return nil }
        let names = tools.compactMap { ($0["function"] as? [String: Any])?["name"] as? String }
        let answered = (request["messages"] as? [[String: Any]])?.last?["role"] as? String == "tool"
        var chosen: String?
        switch request["tool_choice"] {
        case let choice as [String: Any]: chosen = (choice["function"] as? [String: Any])?["name"] as? String
        case let word as String where word == "required": chosen = names.first
        case let word as String where word == "none": chosen = nil
        default:
            chosen =
                lastUser.lowercased().contains("call") && !answered
                ? names.first { lastUser.contains($0) } ?? names.first : nil
        }
        guard let name = chosen else { return nil }
        var arguments = (try? SimulatorJSON.text(["query": lastUser])) ?? "{}"
        if let open = lastUser.firstIndex(of: "{"), let close = lastUser.lastIndex(of: "}"), open < close,
            let object = try? JSONSerialization.jsonObject(with: Data(lastUser[open...close].utf8)),
            object is [String: Any]
        {
            arguments = String(lastUser[open...close])
        }
        return ["id": "call_sim_1", "type": "function", "function": ["name": name, "arguments": arguments]]
    }

    /// The reply as `chat.completion.chunk` events: the role, each word, the finish reason, then
    /// usage when asked for, then `[DONE]`.
    private static func stream(
        id: String, model: String, content: String?, toolCalls: [[String: Any]]?, finish: String,
        usage: [String: Any]?
    ) -> Response {
        func chunk(_ choices: [[String: Any]], usage: Any = NSNull()) -> String {
            let object: [String: Any] = [
                "id": id, "object": "chat.completion.chunk", "created": 1_767_225_600, "model": model,
                "system_fingerprint": "fp_sim", "choices": choices, "usage": usage,
            ]
            return "data: \((try? SimulatorJSON.text(object)) ?? "{}")\n\n"
        }
        var events = [chunk([["index": 0, "delta": ["role": "assistant", "content": ""], "finish_reason": NSNull()]])]
        if let toolCalls {
            let calls = toolCalls.enumerated().map { index, call -> [String: Any] in
                var call = call
                call["index"] = index
                return call
            }
            events.append(chunk([["index": 0, "delta": ["tool_calls": calls], "finish_reason": NSNull()]]))
        } else if let content {
            let words = SimulatedTokens.words(content)
            for (index, word) in words.enumerated() {
                let piece = index == 0 ? word : " " + word
                events.append(chunk([["index": 0, "delta": ["content": piece], "finish_reason": NSNull()]]))
            }
        }
        events.append(chunk([["index": 0, "delta": [String: Any](), "finish_reason": finish]]))
        if let usage { events.append(chunk([], usage: usage)) }
        events.append("data: [DONE]\n\n")
        return SimulatorJSON.eventStream(events)
    }

    /// `POST /v1/embeddings`: one 8-dimensional vector per input, derived from its SHA-256.
    private func embeddings(_ data: Data) throws -> Response {
        let request = try SimulatorJSON.object(data)
        let model = try Self.model(request)
        let inputs: [String]
        switch request["input"] {
        case let text as String: inputs = [text]
        case let texts as [String] where !texts.isEmpty: inputs = texts
        default:
            throw SimulatorError.invalid("'input' must be a string or a non-empty array of strings", param: "input")
        }
        let vectors = inputs.enumerated().map { index, text -> [String: Any] in
            ["object": "embedding", "index": index, "embedding": SimulatedTokens.vector(text)]
        }
        let tokens = inputs.map(SimulatedTokens.count).reduce(0, +)
        return try SimulatorJSON.response([
            "id": "embd-sim-\(SimulatedTokens.digest(data).prefix(16))", "object": "list", "data": vectors,
            "model": model,
            "usage": ["prompt_tokens": tokens, "total_tokens": tokens],
        ])
    }

    /// The request's `model`, or the error the special names stand for.
    private static func model(_ request: [String: Any]) throws -> String {
        guard let model = request["model"] as? String, !model.isEmpty else {
            throw SimulatorError.invalid("you must provide a model parameter", param: "model")
        }
        switch model {
        case "sim-fail-500":
            throw SimulatorError(
                status: .internalServerError, type: "server_error", code: nil,
                message: "The server had an error while processing your request.")
        case "sim-rate-limited":
            throw SimulatorError(
                status: .tooManyRequests, type: "requests", code: "rate_limit_exceeded",
                message: "Rate limit reached for requests.", retryAfter: 1)
        case "sim-missing":
            throw SimulatorError(
                status: .notFound, type: "invalid_request_error", code: "model_not_found",
                message: "The model `\(model)` does not exist or you do not have access to it.")
        default: return model
        }
    }

    /// OpenAI's error body: `{"error": {"message", "type", "param", "code"}}`.
    static func error(_ error: SimulatorError) throws -> Response {
        try SimulatorJSON.errorResponse(
            error,
            body: [
                "error": [
                    "message": error.message, "type": error.type, "param": error.param as Any? ?? NSNull(),
                    "code": error.code as Any? ?? NSNull(),
                ]
            ])
    }
}
