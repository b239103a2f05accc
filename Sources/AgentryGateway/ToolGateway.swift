import AgentryAudit
import AgentryIdentity
import AgentryLedger
import AgentryPolicy
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// One call of a tool operation as it arrived: which operation of which tool, with what arguments.
public struct ToolInvocation: Sendable {
    public let tool: String
    public let operation: String
    /// The JSON object of arguments: path parameters by name, the rest as query or body.
    public let arguments: [String: JSONValue]
    public let requestID: String

    /// A call.
    public init(tool: String, operation: String, arguments: [String: JSONValue], requestID: String) {
        self.tool = tool
        self.operation = operation
        self.arguments = arguments
        self.requestID = requestID
    }
}

/// What a tool call answers: a JSON body (`tool`, `operation`, `status`, `result`) and the cost headers.
public struct ToolReply: Sendable {
    public let body: [UInt8]
    public let headers: [(String, String)]
}

/// Tool calls, governed like model calls: the caller's scope is checked against the Sandbox
/// policy or the agent's grant before anything leaves, a priced call is reserved and settled
/// through the ledger, the org credential is added on the way out and never shown, and every
/// call, refused or not, is a `tool.call` audit record with its arguments and result as payloads.
public final class ToolGateway: Sendable {
    private let current: Mutex<ToolCatalog>
    private let ledger: Ledger
    private let audit: AuditLog
    private let credentials: any CredentialSource
    private let governed: Bool
    /// The base URL of the built-in simulator of a kind (known once the server listens).
    private let builtinBase: @Sendable (ToolConfig.Kind) -> String
    private let client: HTTPClient
    private let tokens: ToolTokens

    /// The most bytes of arguments a call takes, and of a reply the gateway reads.
    public static let argumentsBytesMax = 1 << 20
    public static let resultBytesMax = 4 << 20
    /// The longest any tool may take (each tool's own `timeoutSeconds` is at most this), which
    /// bounds the HTTP client's reads.
    public static let timeoutSeconds: Int64 = 300

    /// A gateway over `catalog`; `builtinBase` says where the process's simulators are.
    public init(
        catalog: ToolCatalog, ledger: Ledger, audit: AuditLog, credentials: any CredentialSource,
        governed: Bool = true, builtinBase: @escaping @Sendable (ToolConfig.Kind) -> String
    ) {
        self.current = Mutex(catalog)
        self.ledger = ledger
        self.audit = audit
        self.credentials = credentials
        self.governed = governed
        self.builtinBase = builtinBase
        self.client = SharedHTTPClients.client(
            connectSeconds: 5, readSeconds: Self.timeoutSeconds, connections: 64)
        self.tokens = ToolTokens(client: client)
    }

    /// The catalog in effect.
    public var catalog: ToolCatalog { current.withLock { $0 } }

    /// Puts `catalog` in effect for the next call.
    public func replace(catalog: ToolCatalog) { current.withLock { $0 = catalog } }

    /// The tools `caller` may use, each with the operations it may call.
    public func tools(for caller: GatewayCaller) -> [(tool: ToolConfig, operations: [ToolOperation])] {
        catalog.tools.compactMap { tool in
            let operations = tool.operations.filter { Self.refusal(caller, tool, $0) == nil }
            return operations.isEmpty ? nil : (tool, operations)
        }
    }

    /// Calls `call` for `caller`: checks, reserves, forwards with the org credential, settles, audits.
    public func call(_ call: ToolInvocation, caller: GatewayCaller) async throws(GatewayError) -> ToolReply {
        var record = ToolCallRecord(caller: caller, call: call)
        do throws(GatewayError) {
            let (tool, operation) = try resolve(call, caller: caller)
            record.resolved = "\(tool.name).\(operation.name)"
            if let refusal = Self.refusal(caller, tool, operation) { throw refusal }
            record.priced = tool.price
            let request = tool.kind == .mcp ? nil : try upstreamRequest(tool, operation, call.arguments)
            let hold = try await reserve(tool, caller: caller, id: call.requestID)
            record.hold = hold
            let secret = try await secret(of: tool)
            let (status, result, contentType) =
                if let request {
                    try await send(request, tool: tool, operation: operation, secret: secret, id: call.requestID)
                } else {
                    try await callMCP(tool, operation, call.arguments, secret: secret)
                }
            // The reply is redacted before anything reads it: the body, errors and the audit record.
            record.result = result
            guard (200..<300).contains(status) else {
                throw Self.upstreamError(status: status, body: result, tool: tool.name)
            }
            if tool.kind == .slack, let failure = Self.slackFailure(result) { throw failure }
            let cost = try await settle(&record)
            var body: [String: JSONValue] = [
                "tool": .string(tool.name), "operation": .string(operation.name), "status": .int(Int64(status)),
            ]
            if let json = JSONValue.parse(result) {
                body["result"] = json
            } else if let text = String(validating: result, as: UTF8.self) {
                body["result"] = .string(text)
            } else {
                body["result"] = .string(Data(result).base64EncodedString())
                body["result_encoding"] = "base64"
            }
            if let contentType { body["content_type"] = .string(contentType) }
            var headers = [("content-type", "application/json")]
            if governed { headers.append(("agentry-cost-usd", cost.decimalText)) }
            await append(record, outcome: "ok")
            return ToolReply(body: JSONValue.object(body).bytes, headers: headers)
        } catch {
            if governed, let hold = record.hold { _ = try? await ledger.release(id: hold) }
            await append(record, outcome: error.code)
            throw error
        }
    }

    /// The tool and operation of `call`, if `caller` may use them.
    private func resolve(_ call: ToolInvocation, caller: GatewayCaller) throws(GatewayError) -> (
        ToolConfig, ToolOperation
    ) {
        guard let tool = catalog.tool(named: call.tool) else {
            throw GatewayError(.notFound, code: "tool_not_found", "no tool named '\(call.tool)' is connected")
        }
        guard let operation = tool.operation(named: call.operation) else {
            throw GatewayError(
                .notFound, code: "operation_not_found",
                "\(tool.name) has no operation '\(call.operation)'; it has \(tool.operations.map(\.name).joined(separator: ", "))"
            )
        }
        return (tool, operation)
    }

    /// Why `caller` may not call `operation` of `tool`, or nil.
    static func refusal(_ caller: GatewayCaller, _ tool: ToolConfig, _ operation: ToolOperation) -> GatewayError? {
        if let policy = caller.sandboxPolicy {
            guard policy.allowsTool(tool.name) else {
                return GatewayError(
                    .permission, code: "tool_not_allowed",
                    "the Sandbox policy does not put \(tool.name) in scope for Sandboxes")
            }
            guard tool.sandboxScopes.contains(operation.scope) else {
                return GatewayError(
                    .permission, code: "scope_not_granted",
                    "\(tool.name).\(operation.name) needs the scope \(operation.scope), which Sandboxes are not given")
            }
        } else {
            guard caller.toolScopes[tool.name]?.contains(operation.scope) == true else {
                return GatewayError(
                    .permission, code: "scope_not_granted",
                    "\(tool.name).\(operation.name) needs the scope \(operation.scope), which this agent was not granted"
                )
            }
        }
        guard tool.dataClassifications.contains(caller.classification) else {
            return GatewayError(
                .permission, code: "classification_not_allowed",
                "\(caller.classification.rawValue) data may not be sent to \(tool.name); it carries "
                    + tool.dataClassifications.map(\.rawValue).joined(separator: ", "))
        }
        return nil
    }

    /// The upstream request of `operation` with `arguments`: path parameters as whole segments of
    /// unreserved characters (nothing that could climb or split the path), the rest as query or body.
    func upstreamRequest(_ tool: ToolConfig, _ operation: ToolOperation, _ arguments: [String: JSONValue])
        throws(GatewayError) -> (request: HTTPClientRequest, body: [UInt8])
    {
        var rest = arguments
        var path = operation.path
        for name in operation.pathParameters {
            guard let value = rest.removeValue(forKey: name) else {
                throw GatewayError.invalid("\(operation.name) needs the argument '\(name)'", param: name)
            }
            let text: String
            switch value {
            case .string(let string): text = string
            case .int(let number): text = String(number)
            default:
                throw GatewayError.invalid("the argument '\(name)' must be a string or a whole number", param: name)
            }
            let unreserved = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
            guard (1...256).contains(text.count), text != ".", text != "..", text.allSatisfy(unreserved.contains) else {
                throw GatewayError.invalid(
                    "the argument '\(name)' goes in the URL path: 1–256 letters, digits, '-', '.', '_' or '~', "
                        + "and not '.' or '..'", param: name)
            }
            path = path.replacingOccurrences(of: "{\(name)}", with: text)
        }
        let base = tool.baseURL == ToolConfig.builtin ? builtinBase(tool.kind) : tool.baseURL
        var url = base + path
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: operation.method.rawValue)
        request.headers.add(name: "accept", value: "application/json")
        for key in operation.fixedQuery.keys.sorted() where rest[key] != nil {
            throw GatewayError.invalid(
                "\(operation.name) always sends \(key)=\(operation.fixedQuery[key] ?? ""); it cannot be an argument",
                param: key)
        }
        let fixed = operation.fixedQuery.sorted { $0.key < $1.key }.map {
            Self.queryEscape($0.key) + "=" + Self.queryEscape($0.value)
        }
        if operation.method.argumentsInQuery {
            var items = fixed
            for (key, value) in rest.sorted(by: { $0.key < $1.key }) {
                let text: String
                switch value {
                case .string(let string): text = string
                case .int(let number): text = String(number)
                case .bool(let flag): text = flag ? "true" : "false"
                case .double(let number): text = String(number)
                default:
                    throw GatewayError.invalid(
                        "the argument '\(key)' goes in the query string: a string, number or boolean", param: key)
                }
                items.append(Self.queryEscape(key) + "=" + Self.queryEscape(text))
            }
            if !items.isEmpty { url += "?" + items.joined(separator: "&") }
            request.url = url
            return (request, [])
        }
        if !fixed.isEmpty { request.url = url + "?" + fixed.joined(separator: "&") }
        let body = JSONValue.object(rest).bytes
        request.headers.add(name: "content-type", value: "application/json; charset=utf-8")
        request.body = .bytes(ByteBuffer(bytes: body))
        return (request, body)
    }

    private static func queryEscape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    private func secret(of tool: ToolConfig) async throws(GatewayError) -> String? {
        let name = tool.credential ?? (tool.baseURL == ToolConfig.builtin ? ToolGateway.builtinCredential : nil)
        guard let name else { return nil }
        let secret: String?
        do {
            secret = try await credentials.secret(named: name)
        } catch {
            throw GatewayError(
                .internal, code: "credential_unavailable", "the credential of tool \(tool.name) could not be read")
        }
        guard let secret else {
            throw GatewayError(
                .internal, code: "credential_missing",
                "tool \(tool.name) needs the credential '\(name)', which is not stored; an admin must set it")
        }
        return secret
    }

    /// The credential name under which the process keeps its simulators' key.
    public static let builtinCredential = "builtin-simulator"

    /// Sends `request` with the tool's credential as its auth says; an OAuth tool that refuses its
    /// token (401) is sent once more with a fresh one. The reply comes back with every secret the
    /// request carried (the credential, an OAuth token) taken out.
    private func send(
        _ upstream: (request: HTTPClientRequest, body: [UInt8]), tool: ToolConfig, operation: ToolOperation,
        secret: String?, id: String
    ) async throws(GatewayError) -> (Int, [UInt8], String?) {
        var request = upstream.request
        let body = upstream.body
        switch tool.auth {
        case .bearer:
            if let secret { request.headers.add(name: "authorization", value: "Bearer \(secret)") }
        case .header(let name):
            if let secret { request.headers.add(name: name, value: secret) }
        case .signature:
            if let secret {
                let time = Int64(ledger.now().timeIntervalSince1970)
                request.headers.add(
                    name: WebhookSignature.header, value: WebhookSignature.value(body: body, secret: secret, time: time)
                )
            }
            request.headers.add(name: "agentry-webhook-id", value: id)
        case .oauth2ClientCredentials(let tokenURL, let clientID, let scope):
            guard let secret else {
                throw GatewayError(.internal, code: "credential_missing", "tool \(tool.name) needs its client secret")
            }
            let url =
                tokenURL == ToolConfig.builtin ? builtinBase(tool.kind) + Self.builtinTokenPath(tool.kind) : tokenURL
            for attempt in 0..<2 {
                let token = try await tokens.token(
                    tokenURL: url, clientID: clientID, secret: secret, scope: scope, tool: tool.name)
                var authorized = request
                authorized.headers.add(name: "authorization", value: "Bearer \(token)")
                let reply = try await execute(
                    authorized, tool: tool, operation: operation, secrets: [secret, token])
                guard reply.0 == 401, attempt == 0 else { return reply }
                await tokens.invalidate(tokenURL: url, clientID: clientID, scope: scope, secret: secret, token: token)
            }
        }
        return try await execute(request, tool: tool, operation: operation, secrets: secret.map { [$0] } ?? [])
    }

    /// Calls the upstream MCP server's tool of `operation`'s name.
    private func callMCP(
        _ tool: ToolConfig, _ operation: ToolOperation, _ arguments: [String: JSONValue], secret: String?
    ) async throws(GatewayError) -> (Int, [UInt8], String?) {
        let authorization: (name: String, value: String)? =
            switch (tool.auth, secret) {
            case (.header(let name), let secret?): (name, secret)
            case (_, let secret?): ("authorization", "Bearer \(secret)")
            default: nil
            }
        let upstream = MCPUpstream(
            client: client, url: tool.baseURL, authorization: authorization, secrets: secret.map { [$0] } ?? [],
            tool: tool.name, timeoutSeconds: tool.timeoutSeconds)
        return (200, try await upstream.call(operation.name, arguments: arguments), "application/json")
    }

    /// Where a built-in simulator issues OAuth tokens.
    static func builtinTokenPath(_ kind: ToolConfig.Kind) -> String {
        kind == .salesforce ? "/services/oauth2/token" : "/oauth2/token"
    }

    /// Executes `request`; the reply's body with `secrets` taken out.
    private func execute(
        _ request: HTTPClientRequest, tool: ToolConfig, operation: ToolOperation, secrets: [String]
    ) async throws(GatewayError) -> (Int, [UInt8], String?) {
        do {
            let response = try await client.execute(request, timeout: .seconds(tool.timeoutSeconds))
            let body = try await response.body.collect(upTo: Self.resultBytesMax)
            if response.status.code == 429, let after = response.headers.first(name: "retry-after").flatMap(Int.init) {
                throw GatewayError(
                    .rateLimited, code: "upstream_rate_limited", "tool \(tool.name) is rate-limiting calls",
                    retryAfter: after)
            }
            return (
                Int(response.status.code), SecretRedaction.redact(Array(buffer: body), secrets: secrets),
                response.headers.first(name: "content-type")
            )
        } catch let error as GatewayError {
            throw error
        } catch let error as NIOTooManyBytesError {
            _ = error
            throw GatewayError(
                .upstream, code: "result_too_large",
                "\(tool.name).\(operation.name) answered more than \(Self.resultBytesMax) bytes")
        } catch {
            throw ProviderClient.transportError(error, provider: tool.name, noun: "tool")
        }
    }

    /// Holds the tool's price on every cap; an unpriced tool holds nothing.
    private func reserve(_ tool: ToolConfig, caller: GatewayCaller, id: String) async throws(GatewayError) -> String? {
        guard governed, tool.price > .zero else { return nil }
        do {
            let outcome = try await ledger.reserve(
                ReservationRequest(
                    id: RandomText.identifier(prefix: "tool"), amount: tool.price, scopes: caller.scopes,
                    // Outlives the longest call: an MCP call's three requests, or an OAuth call's
                    // token fetch and retry, each within the tool's timeout.
                    expiresAt: ledger.now().addingTimeInterval(TimeInterval(tool.timeoutSeconds) * 4 + 90),
                    attribution: caller.attribution(model: nil, provider: "tool:\(tool.name)")))
            return outcome.reservation.id
        } catch let error as LedgerError {
            if case .capExceeded = error { throw GatewayError(.capExceeded, code: "cap_exceeded", error.description) }
            throw GatewayError(.internal, code: error.code, "the ledger refused the call: \(error)")
        } catch {
            throw GatewayError(.internal, code: "ledger_unavailable", "the spend ledger is unavailable")
        }
    }

    /// Settles the call at its price.
    private func settle(_ record: inout ToolCallRecord) async throws(GatewayError) -> Microdollars {
        guard governed, let hold = record.hold else { return .zero }
        do {
            _ = try await ledger.settle(id: hold, actual: record.priced)
        } catch {
            throw GatewayError(.internal, code: "ledger_unavailable", "the spend ledger could not settle the call")
        }
        record.hold = nil
        record.cost = record.priced
        return record.priced
    }

    /// Appends the `tool.call` event; arguments and result are payloads committed to by the leaf.
    private func append(_ record: ToolCallRecord, outcome: String) async {
        defer { record.caller.onOutcome?(outcome) }
        guard governed else { return }
        var payloads = [AuditPayload(name: "arguments", bytes: JSONValue.object(record.call.arguments).bytes)]
        if let result = record.result { payloads.append(AuditPayload(name: "result", bytes: result)) }
        let event = AuditEvent(
            time: 0, kind: .toolCall, actor: record.caller.userID, subject: record.call.requestID,
            agent: record.caller.agent, agentVersion: record.caller.agentVersion, run: record.caller.run,
            outcome: String(outcome.prefix(64)), tool: record.resolved,
            costMicrodollars: record.cost?.value)
        _ = try? await audit.append(AuditAppend(event: event, payloads: payloads))
    }

    /// Slack answers its refusals with HTTP 200 and `ok: false`.
    static func slackFailure(_ body: [UInt8]) -> GatewayError? {
        guard let reply = JSONValue.parse(body), reply["ok"]?.bool == false else { return nil }
        let code = reply["error"]?.string ?? "unknown_error"
        switch code {
        case "not_authed", "invalid_auth", "account_inactive", "token_revoked", "missing_scope":
            return GatewayError(
                .upstream, code: "upstream_credential_refused",
                "Slack refused the org's credential (\(code)); an admin must check it")
        case "ratelimited":
            return GatewayError(.rateLimited, code: "upstream_rate_limited", "Slack is rate-limiting calls")
        default:
            return GatewayError(.invalidRequest, code: "upstream_rejected", "Slack refused the call: \(code)")
        }
    }

    /// The error for a tool's non-2xx reply: its status class and the vendor's own message (from
    /// Google's, HubSpot's, Salesforce's or a plain `message` body), never its secrets.
    static func upstreamError(status: Int, body: [UInt8], tool: String) -> GatewayError {
        let detail = Gateway.vendorDetail(body, secrets: [])
        switch status {
        case 429:
            return GatewayError(
                .rateLimited, code: "upstream_rate_limited", "tool \(tool) is rate-limiting calls\(detail)")
        case 401:
            return GatewayError(
                .upstream, code: "upstream_credential_refused",
                "tool \(tool) refused the org's credential; an admin must check it\(detail)")
        case 403:
            return GatewayError(
                .permission, code: "upstream_forbidden", "tool \(tool) does not allow this call\(detail)")
        case 404:
            return GatewayError(.notFound, code: "upstream_not_found", "tool \(tool) found nothing there\(detail)")
        case 400..<500:
            return GatewayError(
                .invalidRequest, code: "upstream_rejected",
                "tool \(tool) refused the call with status \(status)\(detail)")
        default:
            return GatewayError(.upstream, code: "upstream_error", "tool \(tool) failed with status \(status)\(detail)")
        }
    }
}

/// What is known about one tool call as it goes, for its settle and its audit event.
struct ToolCallRecord: Sendable {
    let caller: GatewayCaller
    let call: ToolInvocation
    /// `tool.operation` once both are known to the catalog (never the caller's unchecked text).
    var resolved: String?
    var priced: Microdollars = .zero
    var hold: String?
    var result: [UInt8]?
    var cost: Microdollars?
}
