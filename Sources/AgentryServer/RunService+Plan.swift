import AgentryGateway
import AgentryIdentity
import AgentryLedger
import AgentryPolicy
import AgentryRegistry
import AgentryStore
import Foundation

extension RunService {
    /// The plan of a new run: which version, which zone, what it was granted, its checked inputs.
    func plan(agent name: String, version: String?, inputs: [String: JSONValue], by user: User) async throws
        -> RunPlan
    {
        guard let agent = try await store.registry.agent(name: name) else { throw RegistryError.agentNotFound(name) }
        let isOwner = agent.ownerID == user.id
        guard agent.state != .suspended else {
            throw APIError(.conflict, "agent_suspended", "the agent '\(name)' is suspended: it cannot be run")
        }
        let chosen: StoredAgentVersion
        if let version {
            guard let stored = try await store.registry.version(agentID: agent.id, version: version),
                stored.version == agent.publishedVersion || isOwner
            else {
                if agent.publishedVersion == nil && !isOwner { throw RegistryError.agentNotFound(name) }
                throw RegistryError.versionNotFound(agent: name, version: version)
            }
            chosen = stored
        } else if let published = agent.publishedVersion,
            let stored = try await store.registry.version(agentID: agent.id, version: published)
        {
            chosen = stored
        } else if isOwner, let latest = try await store.registry.versions(agentID: agent.id).last {
            chosen = latest
        } else {
            throw RegistryError.agentNotFound(name)
        }
        let zone: StoredRun.Zone = chosen.version == agent.publishedVersion ? .catalog : .sandbox
        if zone == .sandbox, [.rejected, .withdrawn, .retired].contains(chosen.state) {
            throw APIError(
                .conflict, "version_not_runnable",
                "version \(chosen.version) of '\(name)' is \(chosen.state.rawValue); run a draft or the published version"
            )
        }
        let manifest = try AgentManifest(yaml: chosen.manifest)
        let checked = try RunInputs.check(inputs, against: manifest.inputs)
        let run = StoredRun(
            id: RandomText.identifier(prefix: "run"), agentID: agent.id, agentName: agent.name,
            version: chosen.version, invokerID: user.id, teamID: user.teamID, zone: zone, status: .queued,
            inputs: JSONValue.object(checked).text, createdAt: ledger.now())
        return try await plan(run: run, manifest: manifest, version: chosen)
    }

    /// The plan of a stored run (for a run token presented to another instance).
    func plan(for run: StoredRun) async throws -> RunPlan {
        guard let version = try await store.registry.version(agentID: run.agentID, version: run.version) else {
            throw RegistryError.versionNotFound(agent: run.agentName, version: run.version)
        }
        return try await plan(run: run, manifest: try AgentManifest(yaml: version.manifest), version: version)
    }

    /// The grants and gateway caller of `run`: a Catalog run gets what review granted, a Sandbox
    /// run what it asked for within the Sandbox policy.
    private func plan(run: StoredRun, manifest: AgentManifest, version: StoredAgentVersion) async throws -> RunPlan {
        var scopes: [LedgerScope] = [.org]
        if let team = run.teamID { scopes.append(try LedgerScope(.team, id: team)) }
        let grants: Grants
        let policy: SandboxPolicy?
        switch run.zone {
        case .catalog:
            guard
                let approved = try await store.reviews.submissions(agentID: run.agentID).last(where: {
                    $0.version == run.version && $0.state == .approved
                })?.grants
            else {
                throw APIError(
                    .conflict, "grants_missing", "version \(run.version) of '\(run.agentName)' has no approved grants")
            }
            grants = approved
            policy = nil
            scopes.append(try LedgerScope(.agent, id: run.agentName))
        case .sandbox:
            let sandbox = sandboxes.revision.policy
            var requested = Grants(requested: manifest)
            if let cap = sandbox.caps.run?.value { requested.runCap = min(requested.runCap, cap) }
            grants = requested
            policy = sandbox
            _ = try await sandboxes.ensure(userID: run.invokerID)
            scopes.append(try LedgerScope(.user, id: run.invokerID))
        }
        scopes.append(try LedgerScope(.run, id: run.id))
        var caller = GatewayCaller(
            userID: run.invokerID, teamID: run.teamID, zone: run.zone == .catalog ? .catalog : .sandbox,
            classification: manifest.dataClassification, scopes: scopes, sandboxPolicy: policy,
            toolScopes: grants.tools, agent: run.agentName, agentVersion: run.version, run: run.id,
            models: grants.models)
        let runID = run.id
        caller.onOutcome = { [weak self] outcome in if outcome == "cap_exceeded" { self?.capSpent(runID) } }
        return RunPlan(
            run: run, manifest: manifest, grants: grants, packageSHA256: version.packageSHA256, caller: caller)
    }
}

/// Checks a run's inputs against the agent's inputs form.
enum RunInputs {
    /// The inputs, each of its field's type; every problem is reported with its field path.
    static func check(_ inputs: [String: JSONValue], against form: [AgentInput]) throws -> [String: JSONValue] {
        var problems: [String] = []
        var checked: [String: JSONValue] = [:]
        let known = Set(form.map(\.name))
        for name in inputs.keys.sorted() where !known.contains(name) {
            problems.append(
                "inputs.\(name): the agent has no such input (it has \(form.map(\.name).joined(separator: ", ")))")
        }
        for field in form {
            guard let value = inputs[field.name], value != .null else {
                if field.required { problems.append("inputs.\(field.name): required") }
                continue
            }
            let typed = coerced(value, field)
            if let problem = problem(typed, field) {
                problems.append("inputs.\(field.name): \(problem)")
            } else {
                checked[field.name] = typed
            }
        }
        guard problems.isEmpty else {
            throw APIError(.badRequest, "invalid_inputs", problems.joined(separator: "; "))
        }
        return checked
    }

    /// A form's text (`"3"`, `"true"`) as the field's type, where it reads as one.
    private static func coerced(_ value: JSONValue, _ field: AgentInput) -> JSONValue {
        guard let text = value.string?.trimmingCharacters(in: .whitespaces) else { return value }
        switch field.type {
        case .integer: return Int64(text).map(JSONValue.int) ?? value
        case .number: return Int64(text).map(JSONValue.int) ?? Double(text).map(JSONValue.double) ?? value
        case .boolean: return ["true": JSONValue.bool(true), "false": .bool(false)][text] ?? value
        default: return value
        }
    }

    /// What is wrong with `value` for `field`, or nil.
    private static func problem(_ value: JSONValue, _ field: AgentInput) -> String? {
        switch field.type {
        case .string, .text:
            guard let text = value.string else { return "must be a string" }
            if field.type == .string && text.contains("\n") { return "must be one line" }
            return text.count > 100_000 ? "must be at most 100000 characters" : nil
        case .integer:
            return value.int == nil || value.double.map { $0 != $0.rounded() } == true ? "must be an integer" : nil
        case .number:
            return value.double == nil && value.int == nil ? "must be a number" : nil
        case .boolean:
            return value.bool == nil ? "must be true or false" : nil
        case .date:
            guard let text = value.string, text.wholeMatch(of: /\d{4}-\d{2}-\d{2}/) != nil,
                Self.calendarDate(text)
            else { return "must be a date, YYYY-MM-DD" }
            return nil
        case .select:
            guard let text = value.string, field.options.contains(text) else {
                return "must be one of \(field.options.joined(separator: ", "))"
            }
            return nil
        }
    }

    /// Whether `text` (YYYY-MM-DD) names a real day.
    private static func calendarDate(_ text: String) -> Bool {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.date(from: text).map { formatter.string(from: $0) == text } ?? false
    }
}
