import AgentryGateway
import AgentryIdentity
import AgentryLedger
import AgentryPolicy
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// The model gateway's inbound routes, in the vendors' own formats so their SDKs work by changing
/// only the base URL and the key: OpenAI (and Mistral) `/v1/chat/completions`, `/v1/embeddings`,
/// `/v1/models`; Anthropic `/v1/messages`; Cohere `/v2/chat`; Gemini `/v1beta/models/{model}:generateContent` and
/// `:streamGenerateContent` (also under `/v1`). Every error is in the caller's vendor's shape.
struct GatewayController: Sendable {
    let gateway: Gateway
    /// The tool gateway, behind the same keys.
    let tools: ToolGateway
    let identity: IdentityService
    /// The Sandbox policy that limits Sandbox keys, and the Sandboxes created on first use.
    let sandboxes: SandboxService
    /// Runs, whose tokens are keys too.
    let runs: RunService
    /// Keys checked in the last few seconds, so a call does not read the store to authenticate.
    let keys: GatewayKeyCache
    /// The largest request body the gateway reads.
    let bodyBytesMax: Int

    /// The header a caller declares its data's classification in.
    static let classificationHeader = HTTPField.Name("agentry-data-classification")!
    private static let apiKeyHeader = HTTPField.Name("x-api-key")!
    private static let googleKeyHeader = HTTPField.Name("x-goog-api-key")!

    func register(on router: Router<AgentryRequestContext>, catalog routes: inout [(HTTPRequest.Method, String)]) {
        router.post("v1/chat/completions") { request, context in
            await self.chat(request, context: context, dialect: .openai)
        }
        router.post("v1/messages") { request, context in
            await self.chat(request, context: context, dialect: .anthropic)
        }
        router.post("v1/messages/count_tokens") { request, context in
            do {
                let caller = try await self.caller(of: request)
                return Self.response(try await self.gateway.countTokens(try await self.read(request), caller: caller))
            } catch {
                return Self.errorResponse(error, dialect: .anthropic, requestID: context.requestID, context: context)
            }
        }
        router.post("v2/chat") { request, context in
            await self.chat(request, context: context, dialect: .cohere)
        }
        router.post("v1/embeddings") { request, context in await self.embeddings(request, context: context) }
        router.get("v1/models") { request, context in await self.models(request, context: context) }
        // A model's name may contain `/` (`sim/openai-small`), so the rest of the path is its id.
        router.get(RouterPath("v1/models/**")) { request, context in await self.model(request, context: context) }
        for version in ["v1beta", "v1"] {
            router.post(RouterPath("\(version)/models/**")) { request, context in
                await self.gemini(request, context: context)
            }
        }
        routes += [
            (.post, "/v1/chat/completions"), (.post, "/v1/messages"), (.post, "/v1/messages/count_tokens"),
            (.post, "/v2/chat"), (.post, "/v1/embeddings"),
            (.get, "/v1/models"), (.get, "/v1/models/{model}"),
            (.post, "/v1beta/models/{model}:generateContent"), (.post, "/v1beta/models/{model}:streamGenerateContent"),
            (.post, "/v1/models/{model}:generateContent"), (.post, "/v1/models/{model}:streamGenerateContent"),
        ]
    }

    /// A chat call in `dialect`.
    private func chat(
        _ request: Request, context: AgentryRequestContext, dialect: Dialect, pathModel: String? = nil,
        streamPath: Bool = false
    ) async -> Response {
        do {
            let caller = try await caller(of: request)
            let body = try await read(request)
            let reply = try await gateway.chat(
                InboundCall(
                    dialect: dialect, body: body, pathModel: pathModel, streamPath: streamPath,
                    requestID: context.requestID),
                caller: caller)
            return Self.response(reply)
        } catch {
            return Self.errorResponse(error, dialect: dialect, requestID: context.requestID, context: context)
        }
    }

    /// `POST /v1beta/models/{model}:generateContent` and friends; the model may contain `/`.
    private func gemini(_ request: Request, context: AgentryRequestContext) async -> Response {
        let rest = context.parameters.getCatchAll().joined(separator: "/")
        let decoded = rest
        guard let colon = decoded.lastIndex(of: ":") else {
            return Self.errorResponse(
                GatewayError(
                    .notFound, code: "not_found", "use models/{model}:generateContent or :streamGenerateContent"),
                dialect: .gemini, requestID: context.requestID, context: context)
        }
        let model = String(decoded[..<colon])
        switch decoded[decoded.index(after: colon)...] {
        case "generateContent": return await chat(request, context: context, dialect: .gemini, pathModel: model)
        case "streamGenerateContent":
            return await chat(request, context: context, dialect: .gemini, pathModel: model, streamPath: true)
        default:
            return Self.errorResponse(
                GatewayError(
                    .notFound, code: "not_found",
                    "the gateway offers generateContent and streamGenerateContent, not '\(decoded[decoded.index(after: colon)...])'"
                ),
                dialect: .gemini, requestID: context.requestID, context: context)
        }
    }

    private func embeddings(_ request: Request, context: AgentryRequestContext) async -> Response {
        do {
            let caller = try await caller(of: request)
            return Self.response(try await gateway.embed(try await read(request), caller: caller))
        } catch {
            return Self.errorResponse(error, dialect: .openai, requestID: context.requestID, context: context)
        }
    }

    /// One model as OpenAI's and Anthropic's SDKs read it, in a list or alone.
    private static func modelEntry(name: String, provider: String) -> JSONValue {
        [
            "id": .string(name), "object": "model", "type": "model", "created": 0,
            "created_at": "1970-01-01T00:00:00Z", "owned_by": .string(provider), "display_name": .string(name),
        ]
    }

    /// `GET /v1/models/{model}`: one model the caller may use (OpenAI's and Anthropic's
    /// `models.retrieve`); any other name is 404 `model_not_found`, in Anthropic's shape when the
    /// request carries `anthropic-version`.
    private func model(_ request: Request, context: AgentryRequestContext) async -> Response {
        let dialect: Dialect = request.headers[HTTPField.Name("anthropic-version")!] == nil ? .openai : .anthropic
        do {
            let caller = try await caller(of: request)
            let raw = context.parameters.getCatchAll().joined(separator: "/")
            let name = raw
            guard let model = gateway.models(for: caller).first(where: { $0.name == name }) else {
                throw GatewayError(
                    .notFound, code: "model_not_found",
                    "no model called '\(name.prefix(200))' is offered to this key; GET /v1/models lists those that are")
            }
            let entry = Self.modelEntry(name: model.name, provider: model.provider)
            return Self.response(.complete(body: entry.bytes, headers: [("content-type", "application/json")]))
        } catch {
            return Self.errorResponse(error, dialect: dialect, requestID: context.requestID, context: context)
        }
    }

    /// `GET /v1/models`: the models the caller may use, readable by the OpenAI and Anthropic SDKs.
    private func models(_ request: Request, context: AgentryRequestContext) async -> Response {
        do {
            let caller = try await caller(of: request)
            let items = gateway.models(for: caller).map { Self.modelEntry(name: $0.name, provider: $0.provider) }
            let list: JSONValue = [
                "object": "list", "data": .array(items), "has_more": false,
                "first_id": items.first?["id"] ?? .null, "last_id": items.last?["id"] ?? .null,
            ]
            return Self.response(.complete(body: list.bytes, headers: [("content-type", "application/json")]))
        } catch {
            return Self.errorResponse(error, dialect: .openai, requestID: context.requestID, context: context)
        }
    }

    /// The body, or a 413 when it is larger than the gateway reads.
    func read(_ request: Request, limit: Int? = nil) async throws -> [UInt8] {
        let limit = limit ?? bodyBytesMax
        do {
            var request = request
            return Array(buffer: try await request.collectBody(upTo: limit))
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw GatewayError(
                .requestTooLarge, code: "request_too_large", "the request body is over \(limit) bytes")
        } catch {
            throw GatewayError.invalid("the request body could not be read")
        }
    }

    /// The caller behind the key the request carries, the way each vendor's SDK sends it.
    func caller(of request: Request) async throws -> GatewayCaller {
        try await caller(secret: Self.key(of: request), classification: request.headers[Self.classificationHeader])
    }

    /// The caller behind `secret`, sending data of the `declared` classification (internal when nil).
    func caller(secret: String?, classification declared: String?) async throws -> GatewayCaller {
        guard let secret else {
            throw GatewayError(
                .authentication, code: "missing_key",
                "no API key: send an Agentry Sandbox key as the SDK's API key (Authorization: Bearer, x-api-key, "
                    + "x-goog-api-key or ?key=)")
        }
        // A run's token carries its agent's grants and classification.
        if TokenKind.of(secret: secret) == .run { return try await runs.caller(secret: secret) }
        let user: User
        do {
            if let cached = keys.user(for: secret) {
                user = cached
            } else {
                (user, _) = try await identity.authenticate(secret: secret, accepted: [.sandbox])
                // A Sandbox key made before its owner's Sandbox existed gets one on first use.
                _ = try await sandboxes.ensure(userID: user.id)
                keys.remember(user, for: secret)
            }
        } catch let error as AuthenticationError {
            throw GatewayError(.authentication, code: error.code, "the API key is refused: \(error.message)")
        } catch {
            throw GatewayError(.overloaded, code: "store_unavailable", "keys cannot be checked right now; try again")
        }
        let classification: DataClassification
        if let declared {
            guard let value = DataClassification(rawValue: declared.lowercased()) else {
                throw GatewayError.invalid(
                    "agentry-data-classification must be public, internal, confidential or restricted", param: nil)
            }
            classification = value
        } else {
            classification = .internal
        }
        let policy = sandboxes.revision.policy
        guard policy.allows(classification) else {
            throw GatewayError(
                .permission, code: "classification_not_allowed",
                "\(classification.rawValue) data may not be sent from a Sandbox: the Sandbox policy allows up to "
                    + policy.maxDataClassification.rawValue)
        }
        var scopes: [LedgerScope] = [.org]
        if let team = user.teamID { scopes.append(try LedgerScope(.team, id: team)) }
        scopes.append(try LedgerScope(.user, id: user.id))
        return GatewayCaller(
            userID: user.id, teamID: user.teamID, zone: .sandbox, classification: classification, scopes: scopes,
            sandboxPolicy: policy)
    }

    /// The key from `x-api-key`, `x-goog-api-key`, a bearer `Authorization` or `?key=`.
    static func key(of request: Request) -> String? {
        if let key = request.headers[apiKeyHeader], !key.isEmpty { return key }
        if let key = request.headers[googleKeyHeader], !key.isEmpty { return key }
        if let authorization = request.headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        if let key = request.uri.queryParameters["key"], !key.isEmpty { return String(key) }
        return nil
    }

    /// The HTTP response for a gateway reply; a stream is written as it arrives.
    static func response(_ reply: GatewayReply) -> Response {
        switch reply {
        case .complete(let body, let headers):
            return Response(
                status: .ok, headers: fields(headers), body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        case .stream(let headers, let stream):
            return Response(
                status: .ok, headers: fields(headers),
                body: ResponseBody { writer in
                    let box = WriterBox(writer: writer)
                    await stream.run { bytes in try await box.write(bytes) }
                    try await box.finish()
                })
        }
    }

    private static func fields(_ pairs: [(String, String)]) -> HTTPFields {
        var fields = HTTPFields()
        for (name, value) in pairs {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        return fields
    }

    /// `error` in `dialect`'s shape; errors that are not the gateway's own are 500s without detail.
    static func errorResponse(
        _ error: any Error, dialect: Dialect, requestID: String, context: AgentryRequestContext
    ) -> Response {
        let failure: GatewayError
        switch error {
        case let error as GatewayError: failure = error
        case let error as LedgerError: failure = GatewayError(.invalidRequest, code: error.code, error.description)
        default:
            context.logger.error(
                "gateway.failed", metadata: ["error.type": .string(String(describing: type(of: error)))])
            failure = GatewayError(.internal, code: "internal", "the gateway failed; the request id is \(requestID)")
        }
        context.logger.info(
            "gateway.refused",
            metadata: ["error.code": .string(failure.code), "http.status": .stringConvertible(failure.status)])
        var headers: [(String, String)] = [("content-type", "application/json")]
        // The vendors' SDKs retry 429s and 5xx unless told not to; a cap or a refusal never clears by retrying.
        headers.append(("x-should-retry", failure.retryable ? "true" : "false"))
        if let after = failure.retryAfter { headers.append(("retry-after", "\(after)")) }
        return Response(
            status: HTTPResponse.Status(code: dialect.codec.status(of: failure)), headers: fields(headers),
            body: ResponseBody(
                byteBuffer: ByteBuffer(bytes: dialect.codec.errorBody(failure, requestID: requestID).bytes)))
    }
}

/// Sandbox keys authenticated in the last `seconds`: a revoked key, or a disabled user's, is refused
/// by every instance within that time. Keys are held by their SHA-256, never in the clear.
final class GatewayKeyCache: Sendable {
    private let seconds: Double
    private let entries = Mutex<[String: (user: User, until: ContinuousClock.Instant)]>([:])
    /// The most keys held; past it the cache starts over.
    private static let entriesMax = 10_000

    init(seconds: Double = 5) { self.seconds = seconds }

    /// The user behind `secret` if it was authenticated recently.
    func user(for secret: String) -> User? {
        let hash = TokenHash.of(secret)
        return entries.withLock { entries in
            guard let entry = entries[hash] else { return nil }
            guard entry.until > .now else {
                entries[hash] = nil
                return nil
            }
            return entry.user
        }
    }

    /// Remembers that `secret` authenticated as `user`.
    func remember(_ user: User, for secret: String) {
        let hash = TokenHash.of(secret)
        let until = ContinuousClock.now.advanced(by: .milliseconds(Int64(seconds * 1000)))
        entries.withLock { entries in
            if entries.count >= Self.entriesMax { entries.removeAll(keepingCapacity: true) }
            entries[hash] = (user, until)
        }
    }
}

/// Lets the gateway's `@Sendable` write closure reach the response writer, which is used by one task at a time.
private final class WriterBox: @unchecked Sendable {
    private var writer: any ResponseBodyWriter

    init(writer: any ResponseBodyWriter) { self.writer = writer }

    func write(_ bytes: [UInt8]) async throws { try await writer.write(ByteBuffer(bytes: bytes)) }

    func finish() async throws { try await writer.finish(nil) }
}
