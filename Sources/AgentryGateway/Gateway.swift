import AgentryAudit
import AgentryIdentity
import AgentryLedger
import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization

/// The governed path every model call takes, in one straight line: read the call → resolve the
/// model → policy → worst-case cost → reserve on every cap → forward with org credentials →
/// meter → settle → audit → reply.
public struct Gateway: Sendable {
    private let routing: Routing
    private let makeProviders: @Sendable (ModelCatalog) -> [ProviderClient]
    private let ledger: Ledger
    private let audit: AuditLog
    /// False only in the benchmark's baseline: calls are then neither reserved, settled nor audited.
    private let governed: Bool

    /// The catalog and its provider clients, swapped whole when an admin changes the catalog; a
    /// call reads one snapshot at its start and keeps it to its end.
    private final class Routing: Sendable {
        struct Snapshot: Sendable {
            let catalog: ModelCatalog
            let providers: [String: ProviderClient]
        }

        private let snapshot: Mutex<Snapshot>

        init(_ snapshot: Snapshot) { self.snapshot = Mutex(snapshot) }

        var current: Snapshot { snapshot.withLock { $0 } }

        func replace(with new: Snapshot) { snapshot.withLock { $0 = new } }
    }

    /// A gateway over `catalog`, calling the clients `makeProviders` makes for a catalog's
    /// providers, charging `ledger`, recording in `audit`.
    public init(
        catalog: ModelCatalog, ledger: Ledger, audit: AuditLog, governed: Bool = true,
        makeProviders: @escaping @Sendable (ModelCatalog) -> [ProviderClient]
    ) {
        self.governed = governed
        self.makeProviders = makeProviders
        self.routing = Routing(Self.snapshot(catalog, makeProviders(catalog)))
        self.ledger = ledger
        self.audit = audit
    }

    private static func snapshot(_ catalog: ModelCatalog, _ providers: [ProviderClient]) -> Routing.Snapshot {
        Routing.Snapshot(
            catalog: catalog,
            providers: Dictionary(providers.map { ($0.config.name, $0) }, uniquingKeysWith: { first, _ in first }))
    }

    /// The catalog in effect.
    public var catalog: ModelCatalog { routing.current.catalog }

    /// Puts `catalog` in effect for every call that starts from now on.
    public func replace(catalog: ModelCatalog) {
        routing.replace(with: Self.snapshot(catalog, makeProviders(catalog)))
    }

    /// The models `caller` may use, by public name.
    public func models(for caller: GatewayCaller) -> [CatalogModel] {
        catalog.models.values.filter(caller.may(use:)).sorted { $0.name < $1.name }
    }

    /// Runs `call` for `caller`. Refusals and failures throw `GatewayError`, already audited.
    public func chat(_ call: InboundCall, caller: GatewayCaller) async throws(GatewayError) -> GatewayReply {
        let inbound = call.dialect.codec
        guard let body = JSONValue.parse(call.body) else { throw Self.unreadable(call.body) }
        let request = try inbound.decodeRequest(body, pathModel: call.pathModel, stream: call.streamPath)
        var record = CallRecord(caller: caller, input: call.body)
        let routes = routing.current
        do {
            let model = try resolve(
                request.model, in: routes, maxTokens: request.maxTokens, caller: caller, record: &record)
            let provider = try self.provider(of: model, in: routes)
            let hold = try await reserve(
                maxTokens: request.maxTokens, model: model, provider: provider.config, caller: caller,
                inputBytes: Int64(call.body.count))
            record.reservation = hold
            let outboundDialect = provider.config.api.dialect
            let sameDialect = outboundDialect == call.dialect
            let upstreamBody: JSONValue
            let outbound = outboundDialect.codec
            if sameDialect {
                upstreamBody = outbound.patchRequest(
                    body, upstreamModel: model.upstreamID, maxTokens: hold.maxTokens, stream: request.stream)
            } else {
                var translated = request
                translated.maxTokens = hold.maxTokens
                upstreamBody = outbound.encodeRequest(translated, upstreamModel: model.upstreamID)
            }
            let response: HTTPClientResponse
            do {
                response = try await provider.send(
                    upstreamBody.bytes, upstreamModel: model.upstreamID, .chat(stream: request.stream))
            } catch {
                throw await fail(error, record: record)
            }
            guard (200..<300).contains(response.status.code) else {
                let text = try? await response.body.collect(upTo: 1 << 20)
                throw await fail(
                    Self.upstreamError(
                        status: Int(response.status.code), body: text.map { Array(buffer: $0) } ?? [],
                        retryAfter: response.headers.first(name: "retry-after"), provider: provider.config.name,
                        secrets: await provider.injectedSecrets()),
                    record: record)
            }
            if request.stream {
                let started = record
                let includeUsage = call.dialect == .openai && body["stream_options"]?["include_usage"]?.bool == true
                return .stream(
                    headers: [("content-type", "text/event-stream"), ("cache-control", "no-cache")] + hold.headers,
                    GatewayStream { write in
                        await self.relay(
                            response, record: started, model: model, hold: hold, inbound: inbound,
                            outbound: outbound, sameDialect: sameDialect, includeUsage: includeUsage, write: write)
                    })
            }
            let bytes: [UInt8]
            do {
                bytes = Array(buffer: try await response.body.collect(upTo: ProviderClient.replyBytesMax))
            } catch {
                throw await fail(ProviderClient.transportError(error, provider: provider.config.name), record: record)
            }
            guard let reply = JSONValue.parse(bytes) else {
                throw await fail(OpenAIDialect.malformed("a reply that is not JSON"), record: record)
            }
            let decoded: ChatResponse
            do {
                decoded = try outbound.decodeResponse(reply)
            } catch {
                throw await fail(error, record: record)
            }
            let out = sameDialect ? bytes : inbound.encodeResponse(decoded, model: model.name).bytes
            record.output = out
            let cost = try await settle(&record, usage: decoded.usage, model: model, outcome: "ok")
            return .complete(
                body: out, headers: [("content-type", "application/json")] + hold.headers(cost: cost))
        } catch let error as GatewayError {
            if record.reservation == nil { await recordRefusal(record, error: error) }
            throw error
        } catch {
            throw GatewayError(.internal, code: "internal", "the gateway failed: \(error)")
        }
    }

    /// Counts the input tokens of an Anthropic messages request, asking the model's provider (only
    /// Anthropic-format providers count; others are refused). A count costs nothing and is neither
    /// reserved nor audited; the caller's key and the model's policy are checked as for a call.
    public func countTokens(_ body: [UInt8], caller: GatewayCaller) async throws(GatewayError) -> GatewayReply {
        guard var json = JSONValue.parse(body) else { throw Self.unreadable(body) }
        guard json.object != nil else { throw .invalid("the request body must be a JSON object") }
        guard let name = json["model"]?.string else { throw .invalid("model: is required", param: "model") }
        guard let messages = json["messages"]?.array, !messages.isEmpty else {
            throw .invalid("messages: is required and must be a non-empty array", param: "messages")
        }
        var record = CallRecord(caller: caller, input: body)
        let routes = routing.current
        let model = try resolve(name, in: routes, maxTokens: nil, caller: caller, record: &record)
        let provider = try self.provider(of: model, in: routes)
        json["model"] = .string(model.upstreamID)
        let response = try await provider.send(json.bytes, upstreamModel: model.upstreamID, .countTokens)
        let bytes: [UInt8]
        do {
            bytes = Array(buffer: try await response.body.collect(upTo: 1 << 20))
        } catch {
            throw ProviderClient.transportError(error, provider: provider.config.name)
        }
        guard (200..<300).contains(response.status.code) else {
            throw Self.upstreamError(
                status: Int(response.status.code), body: bytes,
                retryAfter: response.headers.first(name: "retry-after"), provider: provider.config.name,
                secrets: await provider.injectedSecrets())
        }
        guard let count = JSONValue.parse(bytes)?["input_tokens"]?.int, count >= 0 else {
            throw OpenAIDialect.malformed("a token count without input_tokens")
        }
        return .complete(
            body: JSONValue.object(["input_tokens": .int(count)]).bytes, headers: [("content-type", "application/json")]
        )
    }

    /// Runs an OpenAI embeddings call for `caller`: priced by its input tokens, reserved, audited.
    public func embed(_ body: [UInt8], caller: GatewayCaller) async throws(GatewayError) -> GatewayReply {
        guard let json = JSONValue.parse(body) else { throw Self.unreadable(body) }
        guard json.object != nil else { throw .invalid("the request body must be a JSON object") }
        guard let name = json["model"]?.string else { throw .invalid("'model' is required", param: "model") }
        switch json["input"] {
        case .string(let text)? where !text.isEmpty: break
        case .array(let items)? where !items.isEmpty: break
        default: throw .invalid("'input' must be a non-empty string or array", param: "input")
        }
        var record = CallRecord(caller: caller, input: body)
        let routes = routing.current
        do {
            let model = try resolve(name, in: routes, maxTokens: nil, caller: caller, record: &record)
            let provider = try self.provider(of: model, in: routes)
            guard provider.config.api.dialect == .openai else {
                throw GatewayError.invalid("the model \(model.name) does not make embeddings", param: "model")
            }
            let hold = try await reserve(
                maxTokens: 0, model: model, provider: provider.config, caller: caller, inputBytes: Int64(body.count))
            record.reservation = hold
            var upstream = json
            upstream["model"] = .string(model.upstreamID)
            let response: HTTPClientResponse
            do {
                response = try await provider.send(upstream.bytes, upstreamModel: model.upstreamID, .embeddings)
            } catch {
                throw await fail(error, record: record)
            }
            let bytes: [UInt8]
            do {
                bytes = Array(buffer: try await response.body.collect(upTo: ProviderClient.replyBytesMax))
            } catch {
                throw await fail(ProviderClient.transportError(error, provider: provider.config.name), record: record)
            }
            guard (200..<300).contains(response.status.code) else {
                throw await fail(
                    Self.upstreamError(
                        status: Int(response.status.code), body: bytes,
                        retryAfter: response.headers.first(name: "retry-after"), provider: provider.config.name,
                        secrets: await provider.injectedSecrets()),
                    record: record)
            }
            guard let reply = JSONValue.parse(bytes), let tokens = reply["usage"]?["prompt_tokens"]?.int, tokens >= 0
            else {
                throw await fail(OpenAIDialect.malformed("an embeddings reply without usage"), record: record)
            }
            record.output = bytes
            let cost = try await settle(
                &record, usage: TokenUsage(input: tokens, output: 0), model: model, outcome: "ok")
            return .complete(body: bytes, headers: [("content-type", "application/json")] + hold.headers(cost: cost))
        } catch let error as GatewayError {
            if record.reservation == nil { await recordRefusal(record, error: error) }
            throw error
        } catch {
            throw GatewayError(.internal, code: "internal", "the gateway failed: \(error)")
        }
    }

    /// The client of the provider serving `model`.
    private func provider(of model: CatalogModel, in routes: Routing.Snapshot) throws(GatewayError) -> ProviderClient {
        guard let provider = routes.providers[model.provider] else {
            throw GatewayError(
                .internal, code: "provider_missing",
                "model \(model.name) names provider \(model.provider), which is not configured")
        }
        return provider
    }

    /// The catalog model called `name`, if `caller` may use it with this output allowance. Only a
    /// name the catalog knows goes into `record` (the audit log holds no caller-chosen text).
    private func resolve(
        _ name: String, in routes: Routing.Snapshot, maxTokens: Int64?, caller: GatewayCaller,
        record: inout CallRecord
    ) throws(GatewayError) -> CatalogModel {
        guard let model = routes.catalog.model(named: name) else {
            throw GatewayError(
                .notFound, code: "model_not_found", "the model '\(name)' is not in the catalog", param: "model")
        }
        record.model = model.name
        guard model.zones.contains(caller.zone) else {
            throw GatewayError(
                .permission, code: "model_not_allowed",
                "the model \(model.name) is not allowed in the \(caller.zone.rawValue) zone", param: "model")
        }
        guard model.dataClassifications.contains(caller.classification) else {
            throw GatewayError(
                .permission, code: "model_not_allowed",
                "the model \(model.name) may not receive \(caller.classification.rawValue) data", param: "model")
        }
        if let policy = caller.sandboxPolicy, !policy.allowsModel(model.name) {
            throw GatewayError(
                .permission, code: "model_not_allowed",
                "the model \(model.name) is not approved for Sandboxes by the Sandbox policy", param: "model")
        }
        if let granted = caller.models, !granted.contains(model.name) {
            throw GatewayError(
                .permission, code: "model_not_allowed",
                "the model \(model.name) was not granted to the agent \(caller.agent ?? "")", param: "model")
        }
        if let maxTokens, maxTokens > model.maxOutputTokens {
            throw GatewayError.invalid(
                "max_tokens is \(maxTokens), above the \(model.maxOutputTokens) output tokens \(model.name) allows",
                param: "max_tokens")
        }
        return model
    }

    /// What is held for one call: the reservation, the output allowance it paid for, the tightest cap.
    struct Hold: Sendable {
        let id: String
        let amount: Microdollars
        let maxTokens: Int64
        let headroom: CapHeadroom?

        /// The headers sent before the cost is known (streams).
        var headers: [(String, String)] {
            var headers = [("agentry-reserved-usd", amount.decimalText)]
            if let headroom {
                headers.append(("agentry-budget-remaining-usd", headroom.remaining.decimalText))
                headers.append(("agentry-budget-scope", "\(headroom.scope)/\(headroom.window.rawValue)"))
            }
            return headers
        }

        /// The headers of a finished call costing `cost`.
        func headers(cost: Microdollars) -> [(String, String)] {
            var headers = [("agentry-cost-usd", cost.decimalText)]
            if let headroom {
                let back = (try? amount.subtracting(cost)) ?? .zero
                let remaining = (try? headroom.remaining.adding(back)) ?? headroom.remaining
                headers.append(("agentry-budget-remaining-usd", remaining.decimalText))
                headers.append(("agentry-budget-scope", "\(headroom.scope)/\(headroom.window.rawValue)"))
            }
            return headers
        }
    }

    /// Reserves the worst case on every cap. Without a caller's `max_tokens`, the allowance is the
    /// model's limit, or, when a cap refuses that, what the cap's remaining budget still pays for.
    private func reserve(
        maxTokens requested: Int64?, model: CatalogModel, provider: ProviderConfig, caller: GatewayCaller,
        inputBytes: Int64
    ) async throws(GatewayError) -> Hold {
        guard governed else {
            return Hold(id: "", amount: .zero, maxTokens: requested ?? model.maxOutputTokens, headroom: nil)
        }
        // A hold outlives the longest wait for the provider, so only a crashed holder's expires.
        let lifetime = TimeInterval(provider.readTimeoutSeconds) * 2 + 60
        var maxTokens = requested ?? model.maxOutputTokens
        let id = RandomText.identifier(prefix: "call")
        for attempt in 0..<3 {
            var amount: Microdollars
            do {
                amount = try model.worstCaseCost(inputBytes: inputBytes, maxOutputTokens: maxTokens)
                // A model priced at $0 still holds a microdollar, so its calls are counted like any other.
                amount = max(amount, Microdollars(1))
            } catch {
                throw GatewayError.invalid("the request is too large to price", param: "messages")
            }
            do {
                let outcome = try await ledger.reserve(
                    ReservationRequest(
                        id: "\(id).\(attempt)", amount: amount, scopes: caller.scopes,
                        expiresAt: ledger.now().addingTimeInterval(lifetime),
                        attribution: caller.attribution(model: model.name, provider: model.provider)))
                return Hold(
                    id: outcome.reservation.id, amount: amount, maxTokens: maxTokens,
                    headroom: outcome.reservation.headroom)
            } catch let error as LedgerError {
                guard case .capExceeded(_, _, _, let remaining) = error else {
                    throw GatewayError(.internal, code: error.code, "the ledger refused the call: \(error)")
                }
                // Fit the output allowance to the budget left, when the caller did not set one.
                let inputCost = (try? model.cost(of: TokenUsage(input: inputBytes, output: 0))) ?? remaining
                let perMillion = model.prices.output.value
                let affordable =
                    perMillion == 0
                    ? 0
                    : ((try? remaining.subtracting(inputCost))?.value ?? 0).multipliedReportingOverflow(by: 1_000_000)
                        .partialValue / perMillion
                guard requested == nil, affordable >= 1, affordable < maxTokens else {
                    throw GatewayError(.capExceeded, code: "cap_exceeded", error.description)
                }
                maxTokens = affordable
            } catch {
                throw GatewayError(.internal, code: "ledger_unavailable", "the spend ledger is unavailable")
            }
        }
        throw GatewayError(.capExceeded, code: "cap_exceeded", "no cap left room for this call")
    }

    /// Settles `record`'s reservation at the cost of `usage` (never above what was reserved) and
    /// appends the `model.call` audit event. Returns the cost.
    func settle(_ record: inout CallRecord, usage: TokenUsage, model: CatalogModel, outcome: String)
        async throws(GatewayError) -> Microdollars
    {
        guard governed, let hold = record.reservation else { return .zero }
        var cost = (try? model.cost(of: usage)) ?? hold.amount
        // The reserve bounded the call; a provider that overran its allowance is charged no more
        // than was held, so spend never passes a cap.
        if cost > hold.amount { cost = hold.amount }
        record.usage = usage
        record.cost = cost
        do {
            _ = try await ledger.settle(id: hold.id, actual: cost)
        } catch {
            // Not settled: the hold lapses at its expiry; the audit record says what happened.
            await append(record, outcome: "settle_failed")
            throw GatewayError(.internal, code: "ledger_unavailable", "the spend ledger could not settle the call")
        }
        await append(record, outcome: outcome)
        return cost
    }

    /// Releases the reservation of a call that failed before provable cost arose, audits it, and
    /// returns the error to throw.
    private func fail(_ error: GatewayError, record: CallRecord) async -> GatewayError {
        guard governed else { return error }
        if let hold = record.reservation { _ = try? await ledger.release(id: hold.id) }
        await append(record, outcome: error.code)
        return error
    }

    /// Audits a call refused, after its key was accepted, before anything was reserved.
    private func recordRefusal(_ record: CallRecord, error: GatewayError) async {
        guard governed else { return }
        await append(record, outcome: error.code)
    }

    /// Appends the `model.call` event; the input and output are payloads committed to by the leaf.
    func append(_ record: CallRecord, outcome: String) async {
        defer { record.caller.onOutcome?(outcome) }
        var payloads: [AuditPayload] = []
        // Payloads of every call the provider answered, charged or not.
        if ["ok", "cut", "client_closed", "settle_failed"].contains(outcome) {
            payloads.append(AuditPayload(name: "input", bytes: record.input))
            if let output = record.output { payloads.append(AuditPayload(name: "output", bytes: output)) }
        }
        let event = AuditEvent(
            time: 0, kind: .modelCall, actor: record.caller.userID, agent: record.caller.agent,
            agentVersion: record.caller.agentVersion, run: record.caller.run, outcome: String(outcome.prefix(64)),
            model: record.model, inputTokens: record.usage?.inputTotal,
            outputTokens: record.usage?.output, costMicrodollars: record.cost?.value)
        _ = try? await audit.append(AuditAppend(event: event, payloads: payloads))
    }

    /// The 400 for a body the gateway's JSON reader refused, saying what is wrong and where when
    /// the strict syntax check can tell (a duplicate key, nesting too deep, bytes that are not
    /// UTF-8, a stray character), else what the reader does not take (a number out of range).
    static func unreadable(_ body: [UInt8]) -> GatewayError {
        do {
            try JSONSyntax.check(body, depthMax: JSONValue.depthMax - 1)
        } catch {
            return .invalid("the request body is not valid JSON: \(error.description)")
        }
        return .invalid(
            "the request body is not valid JSON: a number is out of range, or a string holds an unpaired surrogate escape"
        )
    }

    /// `": <message>"` of a vendor's error body (OpenAI's, Anthropic's, Google's and Slack's
    /// `error`, HubSpot's `message`, Salesforce's list of errors), at most 300 characters, with
    /// `secrets` (the credential the call carried) taken out; empty when it has none.
    static func vendorDetail(_ body: [UInt8], secrets: [String]) -> String {
        let reply = JSONValue.parse(SecretRedaction.redact(body, secrets: secrets))
        let message =
            reply?["error"]?["message"]?.string ?? reply?["error"]?.string ?? reply?["message"]?.string
            ?? reply?.array?.first?["message"]?.string
        return message.map { ": " + String($0.prefix(300)) } ?? ""
    }

    /// The gateway error for a provider's non-2xx reply: its status class, never its secrets
    /// (`secrets`, the credential the call carried, are taken out of the vendor's message).
    static func upstreamError(
        status: Int, body: [UInt8], retryAfter: String?, provider: String, secrets: [String]
    ) -> GatewayError {
        let detail = vendorDetail(body, secrets: secrets)
        switch status {
        case 400, 413, 422:
            return GatewayError(
                .invalidRequest, code: "upstream_rejected", "provider \(provider) refused the request\(detail)")
        case 401, 403:
            return GatewayError(
                .upstream, code: "upstream_credential_refused",
                "provider \(provider) refused the org's credential; an admin must check it")
        case 404:
            return GatewayError(
                .upstream, code: "upstream_model_missing", "provider \(provider) does not serve the model\(detail)")
        case 429:
            return GatewayError(
                .rateLimited, code: "upstream_rate_limited", "provider \(provider) is rate-limiting calls\(detail)",
                retryAfter: retryAfter.flatMap { Int($0) })
        case 503, 529:
            return GatewayError(.overloaded, code: "upstream_overloaded", "provider \(provider) is overloaded\(detail)")
        default:
            return GatewayError(
                .upstream, code: "upstream_error", "provider \(provider) failed with status \(status)\(detail)")
        }
    }
}
