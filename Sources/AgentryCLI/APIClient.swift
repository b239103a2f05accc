import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Calls the registry API and turns its JSON errors into one readable line.
struct APIClient {
    let credentials: Credentials

    /// A successful answer: the status and the JSON body.
    struct Answer {
        let status: Int
        let body: Data
    }

    /// Sends `method path` with an optional JSON body; throws `CLIError` for transport and API errors.
    func send(_ method: HTTPMethod, _ path: String, json: [String: Any]? = nil) async throws -> Answer {
        let body = try json.map { try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]) }
        return try await send(method, path, body: body.map { Array($0) }, contentType: "application/json")
    }

    /// Sends `method path` with a raw body of `contentType`, waiting at most `timeout` (an
    /// unreachable server is retried until then); throws `CLIError` for transport and API errors.
    func send(
        _ method: HTTPMethod, _ path: String, body bytes: [UInt8]?, contentType: String,
        timeout: TimeAmount = .seconds(30)
    ) async throws -> Answer {
        let base = credentials.server.hasSuffix("/") ? String(credentials.server.dropLast()) : credentials.server
        guard let url = URL(string: base + path), url.scheme == "http" || url.scheme == "https" else {
            throw CLIError("the server URL '\(credentials.server)' is not an http(s) URL; run 'agentry login' again")
        }
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(credentials.token)")
        request.headers.add(name: "Accept", value: "application/json")
        if let bytes {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: bytes))
        }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: timeout)
        } catch {
            throw CLIError("cannot reach Agentry at \(base): \(Self.reason(error)); is 'agentry serve' running there?")
        }
        let body = Data(buffer: try await response.body.collect(upTo: 16 << 20))
        guard (200..<300).contains(Int(response.status.code)) else {
            throw CLIError(Self.describeFailure(status: Int(response.status.code), body: body))
        }
        return Answer(status: Int(response.status.code), body: body)
    }

    private static func describeFailure(status: Int, body: Data) -> String {
        struct Envelope: Decodable {
            struct Detail: Decodable {
                let code: String
                let message: String
                let request_id: String?
            }

            let error: Detail
        }
        guard let envelope = try? JSONDecoder().decode(Envelope.self, from: body) else {
            return "the server answered HTTP \(status) without an Agentry error body; is the URL an Agentry server?"
        }
        let hint = status == 401 ? " (run 'agentry login' with a valid token, or pass a valid key with --token)" : ""
        return
            "\(envelope.error.message)\(hint) [\(envelope.error.code), HTTP \(status), request \(envelope.error.request_id ?? "-")]"
    }

    private static func reason(_ error: any Error) -> String {
        let text = String(describing: error)
        if text.contains("connectTimeout") { return "connection timed out" }
        if text.lowercased().contains("refused") { return "connection refused" }
        return text
    }
}
