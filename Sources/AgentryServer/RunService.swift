import AgentryAudit
import AgentryGateway
import AgentryIdentity
import AgentryLedger
import AgentryPolicy
import AgentryRegistry
import AgentryRuntime
import AgentryStore
import Foundation
import Logging
import Synchronization

/// What a run executes with, fixed when it is created.
struct RunPlan: Sendable {
    let run: StoredRun
    let manifest: AgentManifest
    let grants: Grants
    let packageSHA256: String
    /// The gateway caller its run token acts as.
    let caller: GatewayCaller
}

/// Runs agents: creates runs, admits them under the concurrency limits, mints their tokens,
/// executes declarative agents in-process and code agents as child processes, and records every
/// run's events, status, cost and audit trail. Runs of one instance are watched for cancellation
/// and suspension requested on any instance.
final class RunService: Sendable {
    let store: any StoreBackend
    let identity: IdentityService
    let ledger: Ledger
    let recorder: AuditChangeRecorder
    let sandboxes: SandboxService
    let loop: DeclarativeLoop
    let code: CodeAgentRunner
    let scheduler: RunScheduler
    let listening: ListeningAddress
    let logger: Logger
    private let tasks = Mutex<[String: Task<Void, Never>]>([:])
    private let callers = Mutex<[String: GatewayCaller]>([:])
    /// Runs of this instance a cap refused a call of: they are stopped and end `cap_exceeded`.
    private let capped = Mutex<Set<String>>([])

    /// A service over these parts.
    init(
        store: any StoreBackend, identity: IdentityService, ledger: Ledger, recorder: AuditChangeRecorder,
        sandboxes: SandboxService, gateway: Gateway, tools: ToolGateway, code: CodeAgentRunner,
        concurrency: RunConcurrency, listening: ListeningAddress, logger: Logger
    ) {
        self.store = store
        self.identity = identity
        self.ledger = ledger
        self.recorder = recorder
        self.sandboxes = sandboxes
        self.loop = DeclarativeLoop(gateway: gateway, tools: tools)
        self.code = code
        self.scheduler = RunScheduler(limits: concurrency)
        self.listening = listening
        self.logger = logger
    }

    /// Creates a run of `agent` (its published version, or `version`, a draft only its owner may
    /// run in their Sandbox) with `inputs` checked against its form, and starts it in the background.
    func start(agent name: String, version: String?, inputs: [String: JSONValue], by user: User) async throws
        -> StoredRun
    {
        let plan = try await plan(agent: name, version: version, inputs: inputs, by: user)
        let waiting = await scheduler.counts.waiting
        guard waiting < scheduler.limits.queued else {
            throw APIError(.tooManyRequests, "run_queue_full", RunQueueFull(queued: waiting).description)
        }
        try await store.runs.createRun(plan.run, recording: [])
        await event(plan.run.id, "status", ["status": "queued"])
        let task = Task { await self.execute(plan) }
        tasks.withLock { $0[plan.run.id] = task }
        return plan.run
    }

    /// Asks a queued or running run to stop (its invoker, the agent's owner or an admin may).
    func cancel(_ run: StoredRun, by user: User) async throws -> StoredRun {
        let time = ledger.now()
        let message = try recorder.message(
            for: AuditEvent(
                time: StoredTime.milliseconds(time), kind: .runCancelled, actor: user.id, subject: run.id,
                agent: run.agentName, agentVersion: run.version, run: run.id),
            at: time)
        guard try await store.runs.requestCancel(id: run.id, by: user.id, recording: [message]) else {
            throw APIError(.conflict, "run_finished", "the run \(run.id) has already ended (\(run.status.rawValue))")
        }
        try await recorder.deliver([message])
        _ = tasks.withLock { $0[run.id] }.map { $0.cancel() }
        return try await store.runs.run(id: run.id) ?? run
    }

    /// Stops every run of a suspended agent that this instance executes and revokes its token
    /// now; the other instances' watchers do the same for theirs within a second.
    func suspended(agentID: String) async {
        guard
            let running = try? await store.runs.runs(
                RunFilter(agentID: agentID, status: .running), after: nil, limit: 1000)
        else { return }
        for run in running {
            if let token = run.tokenID { try? await identity.revokeRunToken(id: token) }
            _ = tasks.withLock { $0[run.id] }.map { $0.cancel() }
        }
    }

    /// The gateway caller behind a run token: only while its run is running and its agent is not suspended.
    func caller(secret: String) async throws(GatewayError) -> GatewayCaller {
        let token: TokenRecord
        do {
            (_, token) = try await identity.authenticate(secret: secret, accepted: [.run])
        } catch let error as AuthenticationError {
            throw GatewayError(.authentication, code: error.code, "the run token is refused: \(error.message)")
        } catch {
            throw GatewayError(.overloaded, code: "store_unavailable", "keys cannot be checked right now; try again")
        }
        let run: StoredRun?
        let agent: StoredAgent?
        do {
            run = try await store.runs.run(tokenID: token.id)
            agent = if let run { try await store.registry.agent(id: run.agentID) } else { nil }
        } catch {
            throw GatewayError(.overloaded, code: "store_unavailable", "keys cannot be checked right now; try again")
        }
        guard let run, run.status == .running else {
            throw GatewayError(.authentication, code: "run_ended", "the run token's run has ended")
        }
        guard agent?.state != .suspended else {
            throw GatewayError(.permission, code: "agent_suspended", "the agent \(run.agentName) is suspended")
        }
        if let known = callers.withLock({ $0[run.id] }) { return known }
        do {
            let plan = try await plan(for: run)
            callers.withLock { $0[run.id] = plan.caller }
            return plan.caller
        } catch {
            throw GatewayError(.internal, code: "run_unreadable", "the run's grants could not be read")
        }
    }

    /// Stops a run whose call a cap refused: spend never passes the cap, and the run does not go
    /// on to fail call after call.
    func capSpent(_ runID: String) {
        let first = capped.withLock { $0.insert(runID).inserted }
        if first { _ = tasks.withLock { $0[runID] }.map { $0.cancel() } }
    }

    /// Executes a created run to its final status.
    private func execute(_ plan: RunPlan) async {
        let run = plan.run
        defer {
            tasks.withLock { $0[run.id] = nil }
            callers.withLock { $0[run.id] = nil }
            capped.withLock { _ = $0.remove(run.id) }
        }
        var result: Result<JSONValue, RunFailure>
        var admission: RunScheduler.Admission?
        var token: IssuedToken?
        do {
            admission = try await scheduler.admit(agent: run.agentID, user: run.invokerID)
            token = try await begin(plan)
            result = .success(try await perform(plan, slot: admission!.slot, token: token!.secret))
        } catch let failure as RunFailure {
            result = .failure(failure)
        } catch is CancellationError {
            result = .failure(RunFailure(.cancelled, "the run was cancelled"))
        } catch {
            result = .failure(RunFailure(.failed, "the run could not be started: \(error)"))
        }
        // A cancelled task's store calls would be refused: the ending is recorded in a task of its own.
        let outcome = result
        await Task {
            var result = outcome
            if case .failure(let failure) = result, failure.kind != .capExceeded,
                capped.withLock({ $0.contains(run.id) })
            {
                result = .failure(RunFailure(.capExceeded, "a cap refused a call of the run, which was stopped"))
            } else if case .failure(let failure) = result, failure.kind == .cancelled,
                let reason = try? await stopReason(run)
            {
                result = .failure(RunFailure(.cancelled, reason))
            }
            // A call refused on another instance is found in the audit log.
            if case .failure(let failure) = result, failure.kind == .failed, plan.manifest.kind.name == "code",
                (try? await spentCap(run)) == true
            {
                result = .failure(RunFailure(.capExceeded, "a cap refused the agent's calls: \(failure.message)"))
            }
            if let admission { await scheduler.release(admission) }
            await finish(run, result, token: token?.record.id)
        }.value
    }

    /// Whether a call of the run was refused for a spent cap (a code agent then fails on its own).
    private func spentCap(_ run: StoredRun) async throws -> Bool {
        try await store.audit.records(matching: AuditFilter(run: run.id), from: 0, count: 1000).contains {
            (try? $0.event().outcome) == "cap_exceeded"
        }
    }

    /// Mints the run's token, sets its per-run cap, marks it running, audits the start.
    private func begin(_ plan: RunPlan) async throws -> IssuedToken {
        let run = plan.run
        if let reason = try await stopReason(run) { throw RunFailure(.cancelled, reason) }
        let lifetime = TimeInterval(code.settings.limits.wallSeconds + 600)
        let token = try await identity.mintRunToken(
            userID: run.invokerID, runID: run.id, expiresAt: ledger.now().addingTimeInterval(lifetime))
        // The per-run cap is part of the run (its `run.started` record names it), not a separate change.
        try await ledger.setCap(
            scope: try LedgerScope(.run, id: run.id), window: .run, limit: Microdollars(plan.grants.runCap))
        let time = ledger.now()
        let message = try recorder.message(
            for: AuditEvent(
                time: StoredTime.milliseconds(time), kind: .runStarted, actor: run.invokerID, subject: run.id,
                agent: run.agentName, agentVersion: run.version, run: run.id, outcome: run.zone.rawValue,
                costMicrodollars: plan.grants.runCap),
            payloads: [AuditPayload(name: "inputs", bytes: Array(run.inputs.utf8))], at: time)
        guard try await store.runs.startRun(id: run.id, tokenID: token.record.id, at: time, recording: [message]) else {
            try? await identity.revokeRunToken(id: token.record.id)
            throw RunFailure(.cancelled, "the run was cancelled before it started")
        }
        callers.withLock { $0[run.id] = plan.caller }
        try await recorder.deliver([message])
        await event(run.id, "status", ["status": "running"])
        return token
    }

    /// Runs the agent itself, watched for cancellation and suspension.
    private func perform(_ plan: RunPlan, slot: Int, token: String) async throws(RunFailure) -> JSONValue {
        let run = plan.run
        let watcher = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                if (try? await self.stopReason(run)) ?? nil != nil {
                    _ = self.tasks.withLock { $0[run.id] }.map { $0.cancel() }
                    return
                }
            }
        }
        defer { watcher.cancel() }
        let inputs = JSONValue.parse(Array(run.inputs.utf8))?.object ?? [:]
        switch plan.manifest.kind {
        case .declarative(let prompt, let model, let tools, let steps):
            return try await loop.run(
                DeclarativeAgent(systemPrompt: prompt, model: model, tools: tools, maxSteps: steps), inputs: inputs,
                caller: plan.caller, runID: run.id
            ) { kind, data in await self.event(run.id, kind, data) }
        case .code(_, let entrypoint):
            let zip: [UInt8]?
            do {
                zip = try await store.registry.package(agentID: run.agentID, version: run.version)
            } catch {
                throw RunFailure(.failed, "the package could not be read: \(error)")
            }
            guard let zip else {
                throw RunFailure(.failed, "the package of \(run.agentName) \(run.version) is missing")
            }
            await event(run.id, "step", ["prepare": .string(plan.packageSHA256)])
            let package = try await code.prepare(sha256: plan.packageSHA256, zip: zip)
            let home = (code.settings.directory as NSString).appendingPathComponent("runs/\(run.id)")
            let environment = CodeAgentRunner.environment(
                token: token, gatewayURL: listening.url ?? "http://127.0.0.1:8080", runID: run.id, home: home,
                python: package.python)
            let (logs, sink) = AsyncStream.makeStream(of: [UInt8].self)
            let writer = Task { await self.writeLog(run.id, logs) }
            defer {
                sink.finish()
                writer.cancel()
            }
            return try await code.run(
                package, entrypoint: entrypoint, runID: run.id, slot: slot, input: JSONValue.object(inputs).bytes,
                environment: environment
            ) { bytes in sink.yield(bytes) }
        }
    }

    /// Records the final status, output or error and cost; revokes the token; audits the finish.
    private func finish(_ run: StoredRun, _ result: Result<JSONValue, RunFailure>, token: String?) async {
        if let token { try? await identity.revokeRunToken(id: token) }
        let cost = (try? await spend(of: run.id)) ?? 0
        let (status, output, error): (StoredRun.Status, String?, String?) =
            switch result {
            case .success(let output): (.succeeded, output.text, nil)
            case .failure(let failure):
                (StoredRun.Status(rawValue: failure.kind.rawValue) ?? .failed, nil, failure.message)
            }
        let time = ledger.now()
        do {
            var payloads: [AuditPayload] = []
            if let output { payloads.append(AuditPayload(name: "output", bytes: Array(output.utf8))) }
            if let error { payloads.append(AuditPayload(name: "error", bytes: Array(error.utf8))) }
            let message = try recorder.message(
                for: AuditEvent(
                    time: StoredTime.milliseconds(time), kind: .runFinished, actor: run.invokerID, subject: run.id,
                    agent: run.agentName, agentVersion: run.version, run: run.id, outcome: status.rawValue,
                    costMicrodollars: cost),
                payloads: payloads, at: time)
            if try await store.runs.finishRun(
                id: run.id, status: status, output: output, error: error, costMicrodollars: cost, at: time,
                recording: [message])
            {
                try await recorder.deliver([message])
            }
        } catch {
            logger.error("run.finish_failed", metadata: ["run.id": .string(run.id), "error": .string("\(error)")])
        }
        var data: [String: JSONValue] = [
            "status": .string(status.rawValue), "cost_usd": .string(Microdollars(cost).decimalText),
        ]
        if let error { data["error"] = .string(error) }
        await event(run.id, "status", .object(data))
        logger.info(
            "run.finished",
            metadata: [
                "run.id": .string(run.id), "agent.name": .string(run.agentName), "run.status": .string(status.rawValue),
            ])
    }

    /// Why a run must stop now (a cancellation request, or its agent's suspension), or nil.
    private func stopReason(_ run: StoredRun) async throws -> String? {
        if let current = try await store.runs.run(id: run.id), current.cancelRequestedBy != nil {
            return "the run was cancelled"
        }
        if try await store.registry.agent(id: run.agentID)?.state == .suspended {
            return "the agent \(run.agentName) was suspended"
        }
        return nil
    }

    /// What the run's calls were charged: the settled spend of its run scope.
    private func spend(of runID: String) async throws -> Int64 {
        let scope = try LedgerScope(.run, id: runID)
        return try await ledger.store.spend(SpendQuery(window: .run, scope: scope, since: 0, until: 1)).first?.1.settled
            .value ?? 0
    }

    /// Appends a run event; a failure to record one is logged, never fatal to the run.
    func event(_ runID: String, _ kind: String, _ data: JSONValue) async {
        do {
            try await store.runs.appendRunEvent(runID: runID, kind: kind, data: data.text, at: ledger.now())
        } catch {
            logger.warning("run.event_failed", metadata: ["run.id": .string(runID), "error": .string("\(error)")])
        }
    }

    /// Writes a code agent's standard error as `log` events, up to 64 KiB a run.
    private func writeLog(_ runID: String, _ chunks: AsyncStream<[UInt8]>) async {
        var written = 0
        for await chunk in chunks where written < 65_536 {
            let part = chunk.prefix(65_536 - written)
            written += part.count
            await event(runID, "log", ["text": .string(String(decoding: part, as: UTF8.self))])
            if written >= 65_536 { await event(runID, "log", ["text": "[log truncated at 64 KiB]"]) }
        }
    }
}
