import AgentryGateway
import AgentryIdentity
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MCP
import NIOCore

/// Agentry's MCP endpoint, `/mcp` (Streamable HTTP, stateless: each POST answers one JSON-RPC
/// message with JSON): `tools/list` shows exactly the tool operations the caller's Sandbox key
/// may call, each as `<tool>__<operation>`, and `tools/call` runs one through the tool gateway,
/// so an MCP client is checked, capped and audited like any other caller. Each HTTP request gets
/// its own MCP server bound to the caller its key authenticated, so no two callers' messages
/// ever meet (JSON-RPC ids repeat across clients).
struct MCPEndpoint: Sendable {
    let gateway: GatewayController
    let logger: Logger

    /// What separates a tool from its operation in an MCP tool name (tool names hold no `_`).
    static let separator = "__"

    /// Answers one HTTP request to `/mcp` for `caller`.
    func handle(_ request: MCP.HTTPRequest, caller: GatewayCaller) async throws -> MCP.HTTPResponse {
        let server = Server(
            name: "agentry", version: "1.0.0", title: "Agentry tool gateway",
            instructions: "Tools the org has connected, within the scopes your key is given; every call is audited.",
            capabilities: .init(tools: .init(listChanged: false)))
        await Self.register(on: server, gateway: gateway, caller: caller)
        // Clients come from anywhere a key reaches; the key, not the origin, is what is checked.
        let transport = StatelessHTTPServerTransport(
            validationPipeline: StandardValidationPipeline(validators: [
                AcceptHeaderValidator(mode: .jsonOnly), ContentTypeValidator(), ProtocolVersionValidator(),
            ]),
            logger: logger)
        try await server.start(transport: transport)
        let response = await transport.handleRequest(request)
        await server.stop()
        return response
    }

    private static func register(on server: Server, gateway: GatewayController, caller: GatewayCaller) async {
        await server.withMethodHandler(ListTools.self) { _ in
            let tools = gateway.tools.tools(for: caller).flatMap { tool, operations in
                operations.map { operation in
                    Tool(
                        name: tool.name + Self.separator + operation.name,
                        description: operation.summary(of: tool), inputSchema: Self.value(operation.argumentSchema),
                        annotations: .init(readOnlyHint: operation.method == .GET))
                }
            }
            return .init(tools: tools)
        }
        await server.withMethodHandler(CallTool.self) { parameters in
            // Tool names hold no `_`, so the first separator ends the tool's name.
            guard let split = parameters.name.range(of: Self.separator) else {
                return .init(
                    content: [
                        Self.text("no tool named '\(parameters.name)': names are <tool>\(Self.separator)<operation>")
                    ],
                    isError: true)
            }
            let (tool, operation) = (
                String(parameters.name[..<split.lowerBound]), String(parameters.name[split.upperBound...])
            )
            let arguments = (parameters.arguments ?? [:]).mapValues(Self.json)
            do {
                let reply = try await gateway.tools.call(
                    ToolInvocation(
                        tool: tool, operation: operation, arguments: arguments,
                        requestID: RandomText.identifier(prefix: "mcp")),
                    caller: caller)
                let body = JSONValue.parse(reply.body)
                let result = body?["result"] ?? .null
                let text = result.string ?? result.text
                return CallTool.Result(
                    content: [Self.text(text)], structuredContent: Self.value(body ?? .null) as Value?, isError: false)
            } catch let error as GatewayError {
                return .init(content: [Self.text("\(error.code): \(error.message)")], isError: true)
            }
        }
    }

    /// A text block of a tool's result.
    private static func text(_ text: String) -> Tool.Content { .text(text: text, annotations: nil, _meta: nil) }

    static func json(_ value: Value) -> JSONValue {
        switch value {
        case .null: .null
        case .bool(let flag): .bool(flag)
        case .int(let number): .int(Int64(number))
        case .double(let number): .double(number)
        case .string(let text): .string(text)
        case .data(_, let data): .string(data.base64EncodedString())
        case .array(let items): .array(items.map(json))
        case .object(let members): .object(members.mapValues(json))
        }
    }

    static func value(_ json: JSONValue) -> Value {
        switch json {
        case .null: .null
        case .bool(let flag): .bool(flag)
        case .int(let number): .int(Int(number))
        case .double(let number): .double(number)
        case .string(let text): .string(text)
        case .array(let items): .array(items.map(value))
        case .object(let members): .object(members.mapValues(value))
        }
    }
}

extension GatewayController {
    /// `POST /mcp` through `endpoint`. Every other method is 405 with `Allow: POST` before any key
    /// is read: a stateless server offers no event stream (GET) and no session to end (DELETE).
    func registerMCP(
        on router: Router<AgentryRequestContext>, endpoint: MCPEndpoint,
        catalog routes: inout [(HTTPRequest.Method, String)]
    ) {
        for method in [HTTPRequest.Method.get, .delete, .put, .patch, .options] {
            router.on("mcp", method: method) { _, _ in
                let refusal: JSONValue = [
                    "jsonrpc": "2.0", "id": .null,
                    "error": ["code": -32000, "message": .string("\(method.rawValue) is not allowed here; use POST")],
                ]
                return Response(
                    status: .methodNotAllowed, headers: [.allow: "POST", .contentType: "application/json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: refusal.bytes)))
            }
        }
        router.post("mcp") { request, context in
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            // The key is checked before any JSON-RPC is read, and binds the whole request.
            let caller: GatewayCaller
            do {
                caller = try await self.caller(of: request)
            } catch {
                return Self.errorResponse(error, dialect: .openai, requestID: context.requestID, context: context)
            }
            let body: Data
            do {
                var request = request
                body = Data(buffer: try await request.collectBody(upTo: ToolGateway.argumentsBytesMax))
            } catch {
                return Response(status: .contentTooLarge)
            }
            let reply = try await endpoint.handle(
                MCP.HTTPRequest(method: "POST", headers: headers, body: body, path: "/mcp"), caller: caller
            )
            var fields = HTTPFields()
            for (name, value) in reply.headers {
                if let name = HTTPField.Name(name) { fields[name] = value }
            }
            return Response(
                status: HTTPResponse.Status(code: reply.statusCode), headers: fields,
                body: ResponseBody(byteBuffer: ByteBuffer(data: reply.bodyData ?? Data())))
        }
        // GET and DELETE are in the protocol (and the API description) as refusals.
        routes += [(.post, "/mcp"), (.get, "/mcp"), (.delete, "/mcp")]
    }
}
