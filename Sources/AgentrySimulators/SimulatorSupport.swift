import Crypto
import Foundation
import Hummingbird

/// A refusal a simulator answers in its vendor's error shape.
struct SimulatorError: Error {
    let status: HTTPResponse.Status
    let type: String
    let code: String?
    let message: String
    var param: String?
    var retryAfter: Int?

    init(
        status: HTTPResponse.Status, type: String, code: String?, message: String, param: String? = nil,
        retryAfter: Int? = nil
    ) {
        self.status = status
        self.type = type
        self.code = code
        self.message = message
        self.param = param
        self.retryAfter = retryAfter
    }

    /// A 400 `invalid_request_error` about `param`.
    static func invalid(_ message: String, param: String) -> SimulatorError {
        SimulatorError(status: .badRequest, type: "invalid_request_error", code: nil, message: message, param: param)
    }
}

/// JSON in and out of the simulators.
enum SimulatorJSON {
    /// The largest request body a simulator reads.
    static let bodyBytesMax = 4 << 20

    /// The body as a JSON object, or a 400 saying why not.
    static func object(_ data: Data) throws -> [String: Any] {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw SimulatorError.invalid(
                "We could not parse the JSON body of your request. The body must be a JSON object.", param: "body")
        }
        return object
    }

    /// `object` as compact JSON text with sorted keys.
    static func text(_ object: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    /// A JSON response.
    static func response(_ object: Any, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: try text(object))))
    }

    /// `error`'s status with `body` (the vendor's error shape), and `retry-after` when it has one.
    static func errorResponse(_ error: SimulatorError, body: Any) throws -> Response {
        var response = try self.response(body, status: error.status)
        if let retryAfter = error.retryAfter { response.headers[.retryAfter] = "\(retryAfter)" }
        return response
    }

    /// Server-sent events, written one after another.
    static func eventStream(_ events: [String]) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                for event in events { try await writer.write(ByteBuffer(string: event)) }
                try await writer.finish(nil)
            })
    }

    /// The text of a message's `content`: a string, or the `text` of its parts.
    static func messageText(_ content: Any?) -> String {
        switch content {
        case let text as String: text
        case let parts as [[String: Any]]: parts.compactMap { $0["text"] as? String }.joined(separator: " ")
        default: ""
        }
    }
}

/// Configurable latency: a model name ending in `@<n>ms` (`sim-gpt-small@250ms`, n from 1 to
/// 60000) makes the simulator wait that long before it answers, so tests and benchmarks can
/// reproduce a slow provider.
enum SimulatedLatency {
    /// The longest wait a name may ask for.
    static let millisecondsMax = 60_000

    /// The wait `model` asks for, if any.
    static func of(model: String) -> Duration? {
        guard model.hasSuffix("ms"), let at = model.lastIndex(of: "@") else { return nil }
        let digits = model[model.index(after: at)..<model.index(model.endIndex, offsetBy: -2)]
        guard let milliseconds = Int(digits), (1...millisecondsMax).contains(milliseconds) else { return nil }
        return .milliseconds(milliseconds)
    }

    /// Waits as long as the `model` of the JSON `body` (or `pathModel`) asks.
    static func wait(body: Data, pathModel: String? = nil) async throws {
        let model =
            pathModel ?? ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any])?["model"] as? String
        if let model, let delay = of(model: model) { try await Task.sleep(for: delay) }
    }
}

/// The simulators' tokenizer and other deterministic stand-ins: a token is a whitespace-separated
/// word (at least one per text), so a test can predict every count.
enum SimulatedTokens {
    /// The words of `text`.
    static func words(_ text: String) -> [String] {
        text.split(whereSeparator: \.isWhitespace).map(String.init)
    }

    /// Tokens in `text`: its words, at least one.
    static func count(_ text: String) -> Int { max(1, words(text).count) }

    /// Hex SHA-256 of `data`.
    static func digest(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    /// An 8-dimensional unit-ish vector derived from `text`'s SHA-256.
    static func vector(_ text: String) -> [Double] {
        Array(SHA256.hash(data: Data(text.utf8))).prefix(8).map { (Double($0) - 127.5) / 127.5 }
    }
}

/// A request's query string read as HTML forms write it (`+` is a space), as Google's and
/// Slack's clients send it.
enum SimulatorQuery {
    /// The query's parameters; a name given twice keeps its last value.
    static func parameters(_ request: Request) -> [String: String] {
        var parameters: [String: String] = [:]
        for pair in (request.uri.query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            parameters[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        return parameters
    }
}

/// Faults a simulator injects when an id the caller sends asks for one, so tests reach a tool's
/// failure paths through the gateway: `FAIL500` answers 500, `RATELIMIT` answers 429 with
/// `Retry-After: 1`, and an id ending in `~<n>ms` (a path segment's unreserved character) answers
/// n milliseconds late.
enum SimulatedFault {
    /// The response of the fault `id` asks for, if any, after any delay it asks for.
    static func response(for id: String) async throws -> Response? {
        if id == "FAIL500" {
            return Response(status: .internalServerError, body: ResponseBody(byteBuffer: ByteBuffer(string: "")))
        }
        if id == "RATELIMIT" {
            var response = try SimulatorJSON.response(["message": "rate limited"], status: .tooManyRequests)
            response.headers[.retryAfter] = "1"
            return response
        }
        if let delay = SimulatedLatency.of(model: id.replacingOccurrences(of: "~", with: "@")) {
            try await Task.sleep(for: delay)
        }
        return nil
    }

    /// `id` without a latency suffix.
    static func base(_ id: String) -> String { id.split(separator: "~").first.map(String.init) ?? id }
}
