import Foundation
import HTTPTypes
import Hummingbird
import NIOFoundationCompat

/// A stand-in for Google's Gemini API that speaks its wire format, under `/v1` (the current
/// google-genai SDK) and `/v1beta`: `models/{model}:generateContent`,
/// `:streamGenerateContent?alt=sse`, `:countTokens`, function calls, JSON output, and Google's
/// error bodies. The key comes as `x-goog-api-key` or `?key=`. Replies are deterministic, with the
/// same tokens as the other simulators.
///
/// A model name ending in `@<n>ms` answers n milliseconds late (`SimulatedLatency`).
/// Model names choose behaviour: `sim-fail-500` (500 `INTERNAL`), `sim-rate-limited` (429
/// `RESOURCE_EXHAUSTED`), `sim-missing` (404 `NOT_FOUND`).
public struct GeminiSimulator: Sendable {
    /// A simulator.
    public init() {}

    private static let apiKey = HTTPField.Name("x-goog-api-key")!

    /// The simulator's routes, added to `router`.
    public func register<Routes: RouterMethods>(on router: Routes) {
        for version in ["v1", "v1beta"] {
            router.group(RouterPath(version)).post("models/{call}") { request, context in
                let body = try await request.body.collect(upTo: SimulatorJSON.bodyBytesMax)
                let call = try context.parameters.require("call")
                try await SimulatedLatency.wait(
                    body: Data(), pathModel: call.split(separator: ":").first.map(String.init) ?? call)
                return try Self.guarded(request) { try Self.answer(call, Data(buffer: body), request: request) }
            }
        }
    }

    /// Answers 403 without a key, Google's error body for `SimulatorError`s, else `body`.
    private static func guarded(_ request: Request, _ body: () throws -> Response) throws -> Response {
        let header = request.headers[apiKey] ?? ""
        let query = request.uri.queryParameters["key"].map(String.init) ?? ""
        guard !header.isEmpty || !query.isEmpty else {
            return try error(
                SimulatorError(
                    status: .forbidden, type: "PERMISSION_DENIED", code: nil,
                    message: "Method doesn't allow unregistered callers. Please use an API key."))
        }
        do {
            return try body()
        } catch let error as SimulatorError {
            return try Self.error(error)
        }
    }

    /// `{model}:{method}`.
    private static func answer(_ call: String, _ data: Data, request: Request) throws -> Response {
        let parts = call.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw SimulatorError.google(.notFound, "NOT_FOUND", "unknown method \(call)") }
        let model = try model(parts[0])
        let body = try SimulatorJSON.object(data)
        switch parts[1] {
        case "generateContent": return try SimulatorJSON.response(try reply(body, model: model).final)
        case "streamGenerateContent": return try stream(body, model: model)
        case "countTokens": return try SimulatorJSON.response(["totalTokens": try promptTokens(body)])
        default: throw SimulatorError.google(.notFound, "NOT_FOUND", "unknown method \(parts[1])")
        }
    }

    /// The reply: its words (or function call) and the whole response object.
    private static func reply(_ body: [String: Any], model: String) throws -> (
        words: [String]?, final: [String: Any]
    ) {
        let prompt = try promptTokens(body)
        let contents = body["contents"] as? [[String: Any]] ?? []
        let lastUser = contents.last { ($0["role"] as? String ?? "user") == "user" }.map(text) ?? ""
        let config = body["generationConfig"] as? [String: Any] ?? [:]
        let maxTokens = config["maxOutputTokens"] as? Int
        if let maxTokens, maxTokens < 1 {
            throw SimulatorError.google(.badRequest, "INVALID_ARGUMENT", "maxOutputTokens must be positive")
        }
        var words = SimulatedTokens.words("Simulated reply to: \(lastUser)")
        var finish = "STOP"
        if let maxTokens, words.count > maxTokens {
            words = Array(words.prefix(maxTokens))
            finish = "MAX_TOKENS"
        }
        var part: [String: Any] = ["text": words.joined(separator: " ")]
        var output = words.count
        if let name = functionName(body, lastUser: lastUser) {
            part = ["functionCall": ["name": name, "args": ["query": lastUser]]]
            output = SimulatedTokens.count(lastUser) + 2
        } else if config["responseMimeType"] as? String == "application/json" {
            let json = try SimulatorJSON.text(["reply": words.joined(separator: " ")])
            part = ["text": json]
            output = SimulatedTokens.count(json)
        }
        let final: [String: Any] = [
            "candidates": [["content": ["role": "model", "parts": [part]], "finishReason": finish, "index": 0]],
            "usageMetadata": [
                "promptTokenCount": prompt, "candidatesTokenCount": output, "totalTokenCount": prompt + output,
            ],
            "modelVersion": model, "responseId": "sim-gemini-response",
        ]
        return (part["text"] != nil ? SimulatedTokens.words(part["text"] as? String ?? "") : nil, final)
    }

    /// The reply as server-sent events: one chunk per word, the last with the finish reason and usage.
    private static func stream(_ body: [String: Any], model: String) throws -> Response {
        let (words, final) = try reply(body, model: model)
        guard let words, words.count > 1 else {
            return SimulatorJSON.eventStream(["data: \(try SimulatorJSON.text(final))\r\n\r\n"])
        }
        var events: [String] = []
        for (index, word) in words.dropLast().enumerated() {
            let chunk: [String: Any] = [
                "candidates": [
                    ["content": ["role": "model", "parts": [["text": index == 0 ? word : " " + word]]], "index": 0]
                ],
                "modelVersion": model, "responseId": "sim-gemini-response",
            ]
            events.append("data: \(try SimulatorJSON.text(chunk))\r\n\r\n")
        }
        var last = final
        if var candidates = last["candidates"] as? [[String: Any]] {
            candidates[0]["content"] = ["role": "model", "parts": [["text": " " + (words.last ?? "")]]]
            last["candidates"] = candidates
        }
        events.append("data: \(try SimulatorJSON.text(last))\r\n\r\n")
        return SimulatorJSON.eventStream(events)
    }

    /// The function to call: the only allowed one in `ANY` mode, else the first when the user asks to "call".
    private static func functionName(_ body: [String: Any], lastUser: String) -> String? {
        let tools = body["tools"] as? [[String: Any]] ?? []
        let names = tools.flatMap {
            ($0["functionDeclarations"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        }
        guard let first = names.first else { return nil }
        let config = (body["toolConfig"] as? [String: Any])?["functionCallingConfig"] as? [String: Any]
        switch config?["mode"] as? String {
        case "ANY": return (config?["allowedFunctionNames"] as? [String])?.first ?? first
        case "NONE": return nil
        default: return lastUser.lowercased().contains("call") ? first : nil
        }
    }

    /// The system instruction's words plus each content's words and 3.
    private static func promptTokens(_ body: [String: Any]) throws -> Int {
        guard let contents = body["contents"] as? [[String: Any]], !contents.isEmpty else {
            throw SimulatorError.google(
                .badRequest, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified")
        }
        let system = (body["systemInstruction"] as? [String: Any]).map { SimulatedTokens.count(text($0)) } ?? 0
        return contents.map { SimulatedTokens.count(text($0)) + 3 }.reduce(system, +)
    }

    /// The text of a content's parts.
    private static func text(_ content: [String: Any]) -> String {
        SimulatorJSON.messageText(content["parts"])
    }

    /// The model, or the error a special name stands for.
    private static func model(_ name: String) throws -> String {
        switch name {
        case "sim-fail-500":
            throw SimulatorError.google(.internalServerError, "INTERNAL", "Internal error encountered.")
        case "sim-rate-limited":
            throw SimulatorError.google(.tooManyRequests, "RESOURCE_EXHAUSTED", "Resource has been exhausted.")
        case "sim-missing":
            throw SimulatorError.google(.notFound, "NOT_FOUND", "models/\(name) is not found for API version v1")
        default: return name
        }
    }

    /// Google's error body: `{"error": {"code", "message", "status"}}`.
    private static func error(_ error: SimulatorError) throws -> Response {
        try SimulatorJSON.errorResponse(
            error, body: ["error": ["code": Int(error.status.code), "message": error.message, "status": error.type]])
    }
}

extension SimulatorError {
    /// A Google API error: the HTTP status and its canonical status name.
    static func google(_ status: HTTPResponse.Status, _ name: String, _ message: String) -> SimulatorError {
        SimulatorError(status: status, type: name, code: nil, message: message)
    }
}
