import AsyncHTTPClient
import Foundation
import NIOCore

/// Calls one tool of an upstream MCP server over Streamable HTTP, as a client of its own: an
/// `initialize` (keeping the session id and protocol version the server answers), the
/// `notifications/initialized` notice, then `tools/call`; each answer read as JSON or as the
/// server-sent event that carries it. What the server's tool answers is the call's result; a
/// JSON-RPC error or a tool result flagged `isError` is the upstream refusing the call.
struct MCPUpstream {
    let client: HTTPClient
    let url: String
    /// The credential's header, as the tool's auth says.
    let authorization: (name: String, value: String)?
    /// The secrets the requests carry, taken out of every answer before it is read.
    let secrets: [String]
    let tool: String
    let timeoutSeconds: Int64

    /// The protocol version offered.
    static let protocolVersion = "2025-06-18"

    /// The `result` of calling `name` with `arguments`, as JSON bytes.
    func call(_ name: String, arguments: [String: JSONValue]) async throws(GatewayError) -> [UInt8] {
        let initialize: JSONValue = [
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": [
                "protocolVersion": .string(Self.protocolVersion), "capabilities": [:],
                "clientInfo": ["name": "agentry", "version": "1.0.0"],
            ],
        ]
        let (opened, session) = try await post(initialize, session: nil, version: nil)
        let version = opened["result"]?["protocolVersion"]?.string ?? Self.protocolVersion
        _ = try await post(
            ["jsonrpc": "2.0", "method": "notifications/initialized"], session: session, version: version)
        let call: JSONValue = [
            "jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": ["name": .string(name), "arguments": .object(arguments)],
        ]
        let (answer, _) = try await post(call, session: session, version: version)
        if let error = answer["error"] {
            throw GatewayError(
                .invalidRequest, code: "upstream_rejected",
                "MCP server \(tool) refused the call: \(error["message"]?.string ?? "error \(error["code"]?.int ?? 0)")"
            )
        }
        guard let result = answer["result"] else {
            throw GatewayError(.upstream, code: "upstream_error", "MCP server \(tool) answered no result")
        }
        if result["isError"]?.bool == true {
            let text = result["content"]?.array?.compactMap { $0["text"]?.string }.joined(separator: " ") ?? ""
            throw GatewayError(
                .invalidRequest, code: "upstream_rejected",
                "MCP server \(tool)'s tool \(name) failed: \(text.prefix(300))")
        }
        return result.bytes
    }

    /// Posts one JSON-RPC message; the answer (empty for a notification) and the session id.
    private func post(_ message: JSONValue, session: String?, version: String?) async throws(GatewayError)
        -> (JSONValue, String?)
    {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "accept", value: "application/json, text/event-stream")
        if let authorization { request.headers.add(name: authorization.name, value: authorization.value) }
        if let session { request.headers.add(name: "mcp-session-id", value: session) }
        if let version { request.headers.add(name: "mcp-protocol-version", value: version) }
        request.body = .bytes(ByteBuffer(bytes: message.bytes))
        let status: UInt
        let body: [UInt8]
        let type: String
        let sessionID: String?
        do {
            let response = try await client.execute(request, timeout: .seconds(timeoutSeconds))
            status = response.status.code
            type = response.headers.first(name: "content-type") ?? ""
            sessionID = response.headers.first(name: "mcp-session-id") ?? session
            body = SecretRedaction.redact(
                Array(buffer: try await response.body.collect(upTo: ToolGateway.resultBytesMax)), secrets: secrets)
        } catch {
            throw ProviderClient.transportError(error, provider: tool, noun: "MCP server")
        }
        guard (200..<300).contains(status) else {
            throw ToolGateway.upstreamError(status: Int(status), body: body, tool: tool)
        }
        if message["id"] == nil || status == 202 { return (.null, sessionID) }
        if type.hasPrefix("text/event-stream") {
            // The answer is the data of the event that carries the reply to this id.
            for line in String(decoding: body, as: UTF8.self).split(separator: "\n") where line.hasPrefix("data:") {
                if let event = JSONValue.parse(Array(line.dropFirst(5).utf8)), event["id"] == message["id"] {
                    return (event, sessionID)
                }
            }
            throw GatewayError(.upstream, code: "upstream_error", "MCP server \(tool) sent no answer in its stream")
        }
        guard let answer = JSONValue.parse(body) else {
            throw GatewayError(
                .upstream, code: "upstream_error", "MCP server \(tool) answered something other than JSON")
        }
        return (answer, sessionID)
    }
}
