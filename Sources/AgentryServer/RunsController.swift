import AgentryAudit
import AgentryGateway
import AgentryIdentity
import AgentryLedger
import AgentryRegistry
import AgentryStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Runs over HTTP: start a run of an agent with its inputs, list and show runs (with their model
/// and tool calls from the audit log), cancel one, and follow its events live as server-sent events.
/// Users see their own runs, owners the runs of their agents, admins and auditors every run.
struct RunsController: Sendable {
    let runs: RunService
    let bodyBytesMax: Int

    /// Roles that see every run.
    static let overseers: [Role] = [.admin, .auditor]

    func register(on api: APIRouter) {
        api.on(.post, "agents/{name}/runs", start)
        api.on(.get, "runs", list)
        api.on(.get, "runs/{id}", show)
        api.on(.post, "runs/{id}/cancel", cancel)
        api.on(.get, "runs/{id}/events", events)
    }

    /// `{"inputs": {…}, "version": "1.2.0"?}`: a new run, queued at once (202).
    @Sendable func start(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        let name = try context.parameters.require("name")
        var request = request
        let body = try await request.decodeJSON(RunBody.self, limit: bodyBytesMax)
        let inputs: [String: JSONValue]
        switch body.inputs {
        case nil: inputs = [:]
        case .object(let object)?: inputs = object
        default: throw APIError(.badRequest, "invalid_field", "inputs: must be a JSON object")
        }
        if let version = body.version, SemanticVersion(version) == nil {
            throw APIError(.badRequest, "invalid_field", "version: '\(version)' is not an exact semantic version")
        }
        let run = try await runs.start(agent: name, version: body.version, inputs: inputs, by: caller.user)
        context.logger.info(
            "run.created", metadata: ["run.id": .string(run.id), "agent.name": .string(run.agentName)])
        return try JSONResponse.make(RunView(run, calls: nil), status: .accepted)
    }

    /// Runs newest first (`?agent=`, `?status=`, `?mine=true`, paged).
    @Sendable func list(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        let paging = try Paging(request)
        let query = request.uri.queryParameters
        var filter = RunFilter()
        if !Self.overseers.contains(where: caller.user.has) { filter.visibleTo = caller.user.id }
        if query["mine"] == "true" { filter.invokerID = caller.user.id }
        if let status = query["status"].map(String.init) {
            guard let parsed = StoredRun.Status(rawValue: status) else {
                throw APIError.invalidQuery(
                    "status", "must be one of \(StoredRun.Status.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter.status = parsed
        }
        if let name = query["agent"].map(String.init) {
            guard let agent = try await runs.store.registry.agent(name: name) else {
                throw RegistryError.agentNotFound(name)
            }
            filter.agentID = agent.id
        }
        let found = try await runs.store.runs.runs(filter, after: paging.after, limit: paging.limit + 1)
        let (items, next) = paging.page(found, id: \.id)
        return try JSONResponse.make(Page(items: items.map { RunView($0, calls: nil) }, nextAfter: next))
    }

    /// One run with its model and tool calls.
    @Sendable func show(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let run = try await visible(context)
        let records = try await runs.store.audit.records(matching: AuditFilter(run: run.id), from: 0, count: 1000)
        let calls = records.compactMap { record -> RunCallView? in
            guard let event = try? record.event(), [.modelCall, .toolCall].contains(event.kind) else { return nil }
            return RunCallView(index: record.index, event: event)
        }
        return try JSONResponse.make(RunView(run, calls: calls))
    }

    /// Asks the run to stop; 409 when it has already ended.
    @Sendable func cancel(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        let run = try await visible(context)
        let owner = try await runs.store.registry.agent(id: run.agentID)?.ownerID
        guard run.invokerID == caller.user.id || owner == caller.user.id || caller.user.has(.admin) else {
            throw APIError(
                .forbidden, "forbidden", "only the run's invoker, the agent's owner or an admin may cancel a run")
        }
        let cancelled = try await runs.cancel(run, by: caller.user)
        return try JSONResponse.make(RunView(cancelled, calls: nil), status: .accepted)
    }

    /// The run's events as `text/event-stream` (`id:` is the event's sequence; resume with
    /// `Last-Event-ID` or `?after=`); the stream ends after the final status.
    @Sendable func events(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let run = try await visible(context)
        let resume =
            request.headers[HTTPField.Name("Last-Event-ID")!] ?? request.uri.queryParameters["after"].map(String.init)
        var after: Int64 = 0
        if let resume {
            guard let value = Int64(resume), value >= 0 else {
                throw APIError.invalidQuery("after", "must be a whole number (an event's id)")
            }
            after = value
        }
        let store = runs.store.runs
        let start = after
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                var cursor = start
                var quiet = 0
                while true {
                    let batch = try await store.runEvents(runID: run.id, after: cursor, limit: 200)
                    for event in batch {
                        let frame = "id: \(event.sequence)\nevent: \(event.kind)\ndata: \(event.data)\n\n"
                        try await writer.write(ByteBuffer(string: frame))
                        cursor = event.sequence
                    }
                    if batch.contains(where: { $0.kind == "status" && Self.isFinal($0.data) }) { break }
                    if batch.isEmpty {
                        quiet += 1
                        // A comment now and then keeps proxies from closing an idle stream.
                        if quiet % 60 == 0 { try await writer.write(ByteBuffer(string: ": waiting\n\n")) }
                        // A run already over whose final event was read before: nothing more will come.
                        if quiet % 20 == 0, let now = try await self.runs.store.runs.run(id: run.id),
                            now.status.isFinal,
                            try await store.runEvents(runID: run.id, after: cursor, limit: 1).isEmpty
                        {
                            break
                        }
                        try await Task.sleep(for: .milliseconds(100))
                    } else {
                        quiet = 0
                    }
                }
                try await writer.finish(nil)
            })
    }

    /// Whether a status event's data names a final status.
    private static func isFinal(_ data: String) -> Bool {
        JSONValue.parse(Array(data.utf8))?["status"]?.string.flatMap(StoredRun.Status.init(rawValue:))?.isFinal == true
    }

    /// The path's run, if the caller may see it; 404 otherwise.
    private func visible(_ context: AgentryRequestContext) async throws -> StoredRun {
        let caller = try context.caller()
        let id = try context.parameters.require("id")
        guard let run = try await runs.store.runs.run(id: id) else { throw Self.notFound(id) }
        if run.invokerID == caller.user.id || Self.overseers.contains(where: caller.user.has) { return run }
        guard try await runs.store.registry.agent(id: run.agentID)?.ownerID == caller.user.id else {
            throw Self.notFound(id)
        }
        return run
    }

    private static func notFound(_ id: String) -> APIError {
        APIError(.notFound, "run_not_found", "no run '\(id)' that you may see")
    }
}

/// `{"inputs": {…}, "version": …}`.
struct RunBody: ClosedJSONBody {
    static let fields = ["inputs", "version"]
    let inputs: JSONValue?
    let version: String?
}

/// A run as the API shows it.
struct RunView: Encodable {
    let id: String
    let agent: String
    let version: String
    let invoker: String
    let zone: String
    let status: String
    let inputs: JSONValue
    let output: JSONValue?
    let error: String?
    let costUSD: String
    let cancelRequestedBy: String?
    let createdAt: Date
    let startedAt: Date?
    let finishedAt: Date?
    let calls: [RunCallView]?

    init(_ run: StoredRun, calls: [RunCallView]?) {
        id = run.id
        agent = run.agentName
        version = run.version
        invoker = run.invokerID
        zone = run.zone.rawValue
        status = run.status.rawValue
        inputs = JSONValue.parse(Array(run.inputs.utf8)) ?? .object([:])
        output = run.output.flatMap { JSONValue.parse(Array($0.utf8)) }
        error = run.error
        costUSD = Microdollars(run.costMicrodollars).decimalText
        cancelRequestedBy = run.cancelRequestedBy
        createdAt = run.createdAt
        startedAt = run.startedAt
        finishedAt = run.finishedAt
        self.calls = calls
    }

    enum CodingKeys: String, CodingKey {
        case id, agent, version, invoker, zone, status, inputs, output, error, calls
        case costUSD = "cost_usd"
        case cancelRequestedBy = "cancel_requested_by"
        case createdAt = "created_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }
}

/// One model or tool call of a run, from its audit record.
struct RunCallView: Encodable {
    let auditIndex: Int64
    let kind: String
    let time: Int64
    let model: String?
    let tool: String?
    let outcome: String?
    let inputTokens: Int64?
    let outputTokens: Int64?
    let costUSD: String?

    init(index: Int64, event: AuditEvent) {
        auditIndex = index
        kind = event.kind.rawValue
        time = event.time
        model = event.model
        tool = event.tool
        outcome = event.outcome
        inputTokens = event.inputTokens
        outputTokens = event.outputTokens
        costUSD = event.costMicrodollars.map { Microdollars($0).decimalText }
    }

    enum CodingKeys: String, CodingKey {
        case kind, time, model, tool, outcome
        case auditIndex = "audit_index"
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case costUSD = "cost_usd"
    }
}
