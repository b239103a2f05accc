import AgentryTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// A decoded response: status, headers and the JSON body as a dictionary.
struct JSONReply {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let text: String
    let json: [String: Any]

    /// `error.code` of an error body.
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    /// `error.message` of an error body.
    var errorMessage: String { (json["error"] as? [String: Any])?["message"] as? String ?? "" }
    /// The items of a page.
    var items: [[String: Any]] { json["items"] as? [[String: Any]] ?? [] }
}

extension TestClientProtocol {
    /// Sends a request with an optional bearer token and raw body; the body is JSON unless `contentType` says otherwise.
    func call(
        _ method: HTTPRequest.Method, _ uri: String, token: String? = nil, body: String? = nil,
        contentType: String = "application/json", headers extra: HTTPFields = [:]
    ) async throws -> JSONReply {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        if body != nil { headers[.contentType] = contentType }
        return try await execute(
            uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }
        ) { response in
            let text = String(buffer: response.body)
            let json = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
            return JSONReply(status: response.status, headers: response.headers, text: text, json: json)
        }
    }
}

/// Checks the one error shape of the registry API: status, code, a message and the request id.
func expectError(
    _ reply: JSONReply, _ status: HTTPResponse.Status, _ code: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(reply.status == status, "body: \(reply.text)", sourceLocation: sourceLocation)
    #expect(reply.errorCode == code, "body: \(reply.text)", sourceLocation: sourceLocation)
    #expect(!reply.errorMessage.isEmpty, sourceLocation: sourceLocation)
    let requestID = (reply.json["error"] as? [String: Any])?["request_id"] as? String
    #expect(
        requestID != nil && requestID == reply.headers[HTTPField.Name("x-request-id")!], sourceLocation: sourceLocation)
    #expect(!reply.text.contains("Error("), "no Swift error dumps in bodies", sourceLocation: sourceLocation)
}

/// JSON text for a dictionary literal.
func json(_ object: [String: Any]) -> String {
    String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
}
