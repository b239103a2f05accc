import Foundation
import HTTPTypes
import Hummingbird
import NIOFoundationCompat

/// A stand-in for Anthropic's Messages API that speaks its wire format: `POST /v1/messages` (plain,
/// and streamed as the full event sequence: `message_start`, `content_block_start`, `ping`,
/// deltas, `content_block_stop`, `message_delta`, `message_stop`), tool use,
/// `POST /v1/messages/count_tokens`, and Anthropic's error bodies. Replies are deterministic, with
/// the same tokens as `OpenAISimulator` (a token is a word).
///
/// A model name ending in `@<n>ms` answers n milliseconds late (`SimulatedLatency`).
/// Model names choose behaviour: `sim-fail-500` (500 `api_error`), `sim-overloaded` (529
/// `overloaded_error`), `sim-rate-limited` (429 with `retry-after`), `sim-missing` (404).
public struct AnthropicSimulator: Sendable {
    /// A simulator.
    public init() {}

    /// The header Anthropic's clients send their key in.
    private static let apiKey = HTTPField.Name("x-api-key")!

    /// The simulator's routes under `/v1`, added to `router`.
    public func register<Routes: RouterMethods>(on router: Routes) {
        let v1 = router.group("v1")
        v1.post("messages") { request, _ in
            let body = try await request.body.collect(upTo: SimulatorJSON.bodyBytesMax)
            try await SimulatedLatency.wait(body: Data(buffer: body))
            return try Self.guarded(request) { try Self.messages(Data(buffer: body)) }
        }
        v1.post("messages/count_tokens") { request, _ in
            let body = try await request.body.collect(upTo: SimulatorJSON.bodyBytesMax)
            return try Self.guarded(request) {
                let request = try SimulatorJSON.object(Data(buffer: body))
                _ = try Self.model(request)
                return try SimulatorJSON.response(["input_tokens": try Self.promptTokens(request)])
            }
        }
    }

    /// Answers 401 without a key, Anthropic's error body for `SimulatorError`s, else `body`.
    private static func guarded(_ request: Request, _ body: () throws -> Response) throws -> Response {
        // Anthropic's clients send the key as `x-api-key`, or as a bearer token (newer SDKs).
        let bearer = request.headers[.authorization].map { $0.hasPrefix("Bearer ") && $0.count > 7 } ?? false
        guard bearer || !(request.headers[Self.apiKey] ?? "").isEmpty else {
            return try error(
                SimulatorError(
                    status: .unauthorized, type: "authentication_error", code: nil,
                    message: "x-api-key header or a bearer token is required"))
        }
        do {
            return try body()
        } catch let error as SimulatorError {
            return try Self.error(error)
        }
    }

    /// `POST /v1/messages`.
    private static func messages(_ data: Data) throws -> Response {
        let request = try SimulatorJSON.object(data)
        let model = try model(request)
        guard let maxTokens = request["max_tokens"] as? Int, maxTokens >= 1 else {
            throw SimulatorError.invalid(
                "max_tokens: Field required, a whole number of at least 1", param: "max_tokens"
            )
        }
        let input = try promptTokens(request)
        let messages = request["messages"] as? [[String: Any]] ?? []
        let lastUser =
            messages.last { ($0["role"] as? String) == "user" }.map { SimulatorJSON.messageText($0["content"]) } ?? ""
        var words = SimulatedTokens.words("Simulated reply to: \(lastUser)")
        var stop = "end_turn"
        if words.count > maxTokens {
            words = Array(words.prefix(maxTokens))
            stop = "max_tokens"
        }
        var block: [String: Any] = ["type": "text", "text": words.joined(separator: " ")]
        if let tool = toolUse(request, lastUser: lastUser) {
            block = tool
            stop = "tool_use"
        }
        let output =
            block["type"] as? String == "tool_use"
            ? SimulatedTokens.count((try? SimulatorJSON.text(block["input"] ?? [:])) ?? "") : words.count
        let id = "msg_sim_\(SimulatedTokens.digest(data).prefix(20))"
        if request["stream"] as? Bool == true {
            return stream(id: id, model: model, block: block, stop: stop, input: input, output: output)
        }
        return try SimulatorJSON.response([
            "id": id, "type": "message", "role": "assistant", "model": model, "content": [block],
            "stop_reason": stop, "stop_sequence": NSNull(),
            "usage": ["input_tokens": input, "output_tokens": output],
        ])
    }

    /// Words of the system prompt and of every message, plus 3 per message.
    private static func promptTokens(_ request: [String: Any]) throws -> Int {
        guard let messages = request["messages"] as? [[String: Any]], !messages.isEmpty else {
            throw SimulatorError.invalid("messages: at least one message is required", param: "messages")
        }
        let system = request["system"].map { SimulatedTokens.count(SimulatorJSON.messageText($0)) } ?? 0
        return messages.map { SimulatedTokens.count(SimulatorJSON.messageText($0["content"])) + 3 }.reduce(system, +)
    }

    /// A `tool_use` block: for the tool `tool_choice` names, or the first one when `tool_choice`
    /// is `any` or the user asks to "call" one.
    private static func toolUse(_ request: [String: Any], lastUser: String) -> [String: Any]? {
        guard let tools = request["tools"] as? [[String: Any]], !tools.isEmpty else { return nil }
        let names = tools.compactMap { $0["name"] as? String }
        let choice = request["tool_choice"] as? [String: Any]
        let chosen: String? =
            switch choice?["type"] as? String {
            case "tool": choice?["name"] as? String
            case "any": names.first
            case "none": nil
            default: lastUser.lowercased().contains("call") ? names.first : nil
            }
        guard let name = chosen else { return nil }
        return ["type": "tool_use", "id": "toolu_sim_1", "name": name, "input": ["query": lastUser]]
    }

    /// The reply as Anthropic's stream of named events.
    private static func stream(
        id: String, model: String, block: [String: Any], stop: String, input: Int, output: Int
    ) -> Response {
        func event(_ name: String, _ object: [String: Any]) -> String {
            "event: \(name)\ndata: \((try? SimulatorJSON.text(object)) ?? "{}")\n\n"
        }
        var events = [
            event(
                "message_start",
                [
                    "type": "message_start",
                    "message": [
                        "id": id, "type": "message", "role": "assistant", "model": model, "content": [Any](),
                        "stop_reason": NSNull(), "stop_sequence": NSNull(),
                        "usage": ["input_tokens": input, "output_tokens": 1],
                    ],
                ])
        ]
        if block["type"] as? String == "tool_use" {
            var start = block
            start["input"] = [String: Any]()
            events.append(
                event("content_block_start", ["type": "content_block_start", "index": 0, "content_block": start]))
            events.append(event("ping", ["type": "ping"]))
            let json = (try? SimulatorJSON.text(block["input"] ?? [:])) ?? "{}"
            let middle = json.index(json.startIndex, offsetBy: json.count / 2)
            for part in [String(json[..<middle]), String(json[middle...])] {
                events.append(
                    event(
                        "content_block_delta",
                        [
                            "type": "content_block_delta", "index": 0,
                            "delta": ["type": "input_json_delta", "partial_json": part],
                        ]))
            }
        } else {
            events.append(
                event(
                    "content_block_start",
                    ["type": "content_block_start", "index": 0, "content_block": ["type": "text", "text": ""]]))
            events.append(event("ping", ["type": "ping"]))
            for (index, word) in SimulatedTokens.words(block["text"] as? String ?? "").enumerated() {
                events.append(
                    event(
                        "content_block_delta",
                        [
                            "type": "content_block_delta", "index": 0,
                            "delta": ["type": "text_delta", "text": index == 0 ? word : " " + word],
                        ]))
            }
        }
        events.append(event("content_block_stop", ["type": "content_block_stop", "index": 0]))
        events.append(
            event(
                "message_delta",
                [
                    "type": "message_delta", "delta": ["stop_reason": stop, "stop_sequence": NSNull()],
                    "usage": ["output_tokens": output],
                ]))
        events.append(event("message_stop", ["type": "message_stop"]))
        return SimulatorJSON.eventStream(events)
    }

    /// The request's `model`, or the error the special names stand for.
    private static func model(_ request: [String: Any]) throws -> String {
        guard let model = request["model"] as? String, !model.isEmpty else {
            throw SimulatorError.invalid("model: Field required", param: "model")
        }
        switch model {
        case "sim-fail-500":
            throw SimulatorError(
                status: .internalServerError, type: "api_error", code: nil, message: "Internal server error")
        case "sim-overloaded":
            throw SimulatorError(status: .init(code: 529), type: "overloaded_error", code: nil, message: "Overloaded")
        case "sim-rate-limited":
            throw SimulatorError(
                status: .tooManyRequests, type: "rate_limit_error", code: nil,
                message: "Number of requests has exceeded your rate limit.", retryAfter: 1)
        case "sim-missing":
            throw SimulatorError(status: .notFound, type: "not_found_error", code: nil, message: "model: \(model)")
        default: return model
        }
    }

    /// Anthropic's error body: `{"type": "error", "error": {"type", "message"}}`.
    private static func error(_ error: SimulatorError) throws -> Response {
        try SimulatorJSON.errorResponse(
            error,
            body: [
                "type": "error", "error": ["type": error.type, "message": error.message], "request_id": "req_sim",
            ])
    }
}
