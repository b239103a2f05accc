import AgentryGateway
import AgentryPolicy
import AgentryStore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

extension GatewayController {
    /// The tool gateway's routes: `POST /v1/tools/{tool}/{operation}` with a JSON object of
    /// arguments, and `GET /v1/tools`, what the caller's key may call. Errors are in OpenAI's
    /// shape (`{"error": {"message", "type", "code"}}`), like the gateway's own routes.
    func registerTools(on router: Router<AgentryRequestContext>, catalog routes: inout [(HTTPRequest.Method, String)]) {
        router.post("v1/tools/{tool}/{operation}") { request, context in
            do {
                let caller = try await self.caller(of: request)
                let tool = try context.parameters.require("tool")
                let operation = try context.parameters.require("operation")
                let body = try await self.read(request, limit: ToolGateway.argumentsBytesMax)
                let arguments: [String: JSONValue]
                if body.allSatisfy({ [0x20, 0x0A, 0x0D, 0x09].contains($0) }) {
                    arguments = [:]
                } else {
                    guard let parsed = JSONValue.parse(body), let object = parsed.object else {
                        throw GatewayError.invalid("the body must be a JSON object of the operation's arguments")
                    }
                    arguments = object
                }
                let reply = try await self.tools.call(
                    ToolInvocation(
                        tool: tool, operation: operation, arguments: arguments, requestID: context.requestID),
                    caller: caller)
                context.logger.info(
                    "tool.called", metadata: ["tool.name": .string(tool), "tool.operation": .string(operation)])
                return Self.response(.complete(body: reply.body, headers: reply.headers))
            } catch {
                return Self.errorResponse(error, dialect: .openai, requestID: context.requestID, context: context)
            }
        }
        router.get("v1/tools") { request, context in
            do {
                let caller = try await self.caller(of: request)
                let items: [JSONValue] = self.tools.tools(for: caller).map { tool, operations in
                    [
                        "name": .string(tool.name), "kind": .string(tool.kind.rawValue),
                        "price_usd": .string(tool.price.decimalText),
                        "data_classifications": .array(tool.dataClassifications.map { .string($0.rawValue) }),
                        "operations": .array(
                            operations.map {
                                [
                                    "name": .string($0.name), "method": .string($0.method.rawValue),
                                    "scope": .string($0.scope),
                                ]
                            }),
                    ]
                }
                let list: JSONValue = ["object": "list", "data": .array(items)]
                return Self.response(.complete(body: list.bytes, headers: [("content-type", "application/json")]))
            } catch {
                return Self.errorResponse(error, dialect: .openai, requestID: context.requestID, context: context)
            }
        }
        routes += [(.post, "/v1/tools/{tool}/{operation}"), (.get, "/v1/tools")]
    }
}

/// The tool catalog as the API shows a revision of it.
struct ToolCatalogView: Encodable, Sendable {
    struct Tool: Encodable, Sendable {
        struct Operation: Encodable, Sendable {
            let name: String
            let method: String
            let path: String
            let scope: String
        }

        let name: String
        let kind: String
        let baseUrl: String
        let credential: String?
        let operations: [Operation]
        let priceUsd: String
        let dataClassifications: [String]
        let sandboxScopes: [String]
    }

    let revision: Int64
    /// `admin` for revisions 1, 2, …; `shipped` for revision 0.
    let source: String
    let yaml: String
    let createdAt: Date?
    let createdBy: String?
    let tools: [Tool]

    init(_ revision: PolicyRevision<ToolCatalog>) {
        self.revision = revision.number
        source = revision.number > 0 ? "admin" : "shipped"
        yaml = revision.yaml
        createdAt = revision.createdAt
        createdBy = revision.createdBy
        tools = revision.policy.tools.map { tool in
            Tool(
                name: tool.name, kind: tool.kind.rawValue, baseUrl: tool.baseURL, credential: tool.credential,
                operations: tool.operations.map {
                    Tool.Operation(name: $0.name, method: $0.method.rawValue, path: $0.path, scope: $0.scope)
                },
                priceUsd: tool.price.decimalText, dataClassifications: tool.dataClassifications.map(\.rawValue),
                sandboxScopes: tool.sandboxScopes)
        }
    }
}

/// Keeps every instance on the tool catalog admins set: reads the newest revision every few
/// seconds and puts it in effect in the tool gateway (the instance that took a change applied it at once).
struct ToolCatalogService: Service {
    let book: PolicyBook<ToolCatalog>
    let tools: ToolGateway
    let logger: Logger
    var interval: Duration = .seconds(5)

    /// Puts the book's newest revision in effect.
    static func apply(_ book: PolicyBook<ToolCatalog>, to tools: ToolGateway) async throws {
        tools.replace(catalog: try await book.refresh().policy)
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Self.apply(book, to: tools)
                } catch {
                    logger.warning("tools.catalog_refresh_failed", metadata: ["error": .string("\(error)")])
                }
                do { try await Task.sleep(for: interval) } catch { return }
            }
        }
    }
}
