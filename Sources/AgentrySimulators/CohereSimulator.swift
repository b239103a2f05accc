import Foundation
import Hummingbird
import NIOFoundationCompat

/// A stand-in for Cohere's v2 Chat API that speaks its wire format: `POST /v2/chat` (plain, and
/// streamed as `message-start`, `content-start`, `content-delta`…, `content-end` or the
/// `tool-call-*` events, `message-end` with usage), tool calls, JSON mode, and Cohere's error
/// bodies (`{"id", "message"}`). Replies are deterministic, with the same tokens as the other
/// simulators (a token is a word).
///
/// A model name ending in `@<n>ms` answers n milliseconds late (`SimulatedLatency`).
/// Model names choose behaviour: `sim-fail-500` (500), `sim-rate-limited` (429 with
/// `retry-after`), `sim-missing` (404).
public struct CohereSimulator: Sendable {
    /// A simulator.
    public init() {}

    /// The simulator's route, `/v2/chat`, added to `router`.
    public func register<Routes: RouterMethods>(on router: Routes) {
        router.post("v2/chat") { request, _ in
            let body = try await request.body.collect(upTo: SimulatorJSON.bodyBytesMax)
            try await SimulatedLatency.wait(body: Data(buffer: body))
            guard let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer "),
                authorization.count > "Bearer ".count
            else {
                return try Self.error(
                    SimulatorError(
                        status: .unauthorized, type: "unauthorized", code: nil, message: "no api key supplied"))
            }
            do {
                return try Self.chat(Data(buffer: body))
            } catch let error as SimulatorError {
                return try Self.error(error)
            }
        }
    }

    private static func chat(_ data: Data) throws -> Response {
        let request = try SimulatorJSON.object(data)
        guard let model = request["model"] as? String, !model.isEmpty else {
            throw SimulatorError.invalid("invalid request: model is required", param: "model")
        }
        switch model {
        case "sim-fail-500":
            throw SimulatorError(
                status: .internalServerError, type: "internal", code: nil, message: "internal server error")
        case "sim-rate-limited":
            throw SimulatorError(
                status: .tooManyRequests, type: "too_many_requests", code: nil,
                message: "You are using a Trial key, which is limited to 10 API calls / minute.", retryAfter: 1)
        case "sim-missing":
            throw SimulatorError(
                status: .notFound, type: "not_found", code: nil, message: "model '\(model)' not found")
        default: break
        }
        guard let messages = request["messages"] as? [[String: Any]], !messages.isEmpty else {
            throw SimulatorError.invalid("invalid request: messages must be a non-empty array", param: "messages")
        }
        let maxTokens = request["max_tokens"] as? Int
        if let maxTokens, maxTokens < 1 {
            throw SimulatorError.invalid("invalid request: max_tokens must be at least 1", param: "max_tokens")
        }
        let input = messages.map { SimulatedTokens.count(SimulatorJSON.messageText($0["content"])) + 3 }.reduce(0, +)
        let lastUser =
            messages.last { ($0["role"] as? String) == "user" }.map { SimulatorJSON.messageText($0["content"]) } ?? ""
        var words = SimulatedTokens.words("Simulated reply to: \(lastUser)")
        var finish = "COMPLETE"
        if let maxTokens, words.count > maxTokens {
            words = Array(words.prefix(maxTokens))
            finish = "MAX_TOKENS"
        }
        var text: String? = words.joined(separator: " ")
        var call: [String: Any]?
        let tools = (request["tools"] as? [[String: Any]] ?? []).compactMap {
            ($0["function"] as? [String: Any])?["name"] as? String
        }
        let choice = request["tool_choice"] as? String
        if let name = tools.first, choice != "NONE", choice == "REQUIRED" || lastUser.lowercased().contains("call") {
            let arguments = try SimulatorJSON.text(["query": lastUser])
            call = ["id": "sim_call_1", "type": "function", "function": ["name": name, "arguments": arguments]]
            (text, finish) = (nil, "TOOL_CALL")
        } else if (request["response_format"] as? [String: Any])?["type"] as? String == "json_object" {
            text = try SimulatorJSON.text(["reply": text ?? ""])
        }
        let output = call.map { _ in 8 } ?? SimulatedTokens.count(text ?? "")
        let usage: [String: Any] = [
            "billed_units": ["input_tokens": input, "output_tokens": output],
            "tokens": ["input_tokens": input + 2, "output_tokens": output],
        ]
        let id = "sim-cohere-\(SimulatedTokens.digest(data).prefix(12))"
        if request["stream"] as? Bool == true {
            return stream(id: id, text: text, call: call, finish: finish, usage: usage)
        }
        var message: [String: Any] = ["role": "assistant"]
        if let text { message["content"] = [["type": "text", "text": text]] }
        if let call {
            message["tool_calls"] = [call]
            message["tool_plan"] = "I will call the tool."
        }
        return try SimulatorJSON.response(["id": id, "finish_reason": finish, "message": message, "usage": usage])
    }

    /// The reply as Cohere's stream events.
    private static func stream(id: String, text: String?, call: [String: Any]?, finish: String, usage: [String: Any])
        -> Response
    {
        func event(_ type: String, _ fields: [String: Any]) -> String {
            var data = fields
            data["type"] = type
            return "event: \(type)\ndata: \((try? SimulatorJSON.text(data)) ?? "{}")\n\n"
        }
        var events = [
            event(
                "message-start",
                ["id": id, "delta": ["message": ["role": "assistant", "content": [Any](), "tool_calls": [Any]()]]])
        ]
        if let call, let function = call["function"] as? [String: Any] {
            events.append(
                event(
                    "tool-call-start",
                    [
                        "index": 0,
                        "delta": [
                            "message": [
                                "tool_calls": [
                                    "id": call["id"] ?? "", "type": "function",
                                    "function": ["name": function["name"] ?? "", "arguments": ""],
                                ]
                            ]
                        ],
                    ]))
            let arguments = function["arguments"] as? String ?? "{}"
            let middle = arguments.index(arguments.startIndex, offsetBy: arguments.count / 2)
            for piece in [String(arguments[..<middle]), String(arguments[middle...])] {
                events.append(
                    event(
                        "tool-call-delta",
                        ["index": 0, "delta": ["message": ["tool_calls": ["function": ["arguments": piece]]]]]))
            }
            events.append(event("tool-call-end", ["index": 0]))
        } else if let text {
            events.append(
                event("content-start", ["index": 0, "delta": ["message": ["content": ["type": "text", "text": ""]]]]))
            for (index, word) in SimulatedTokens.words(text).enumerated() {
                let piece = index == 0 ? word : " " + word
                events.append(
                    event("content-delta", ["index": 0, "delta": ["message": ["content": ["text": piece]]]]))
            }
            events.append(event("content-end", ["index": 0]))
        }
        events.append(event("message-end", ["id": id, "delta": ["finish_reason": finish, "usage": usage]]))
        return SimulatorJSON.eventStream(events)
    }

    /// Cohere's error body: `{"id", "message"}`.
    static func error(_ error: SimulatorError) throws -> Response {
        try SimulatorJSON.errorResponse(error, body: ["id": "sim-error", "message": error.message])
    }
}
