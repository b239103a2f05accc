import AgentryAudit
import AgentryIdentity
import AgentryLedger
import AgentryPolicy
import AgentryRegistry
import AgentryStore
import Foundation

/// Submission and review: a draft is submitted with its purpose, checked against IT's approval
/// criteria into a checklist, discussed in a thread, and decided by reviewers (or by the policy
/// when it allows). Every step is an audit event written with the change.
struct ReviewService: Sendable {
    let store: any ReviewStore
    let registry: any RegistryStore
    let book: PolicyBook<ApprovalPolicy>
    let recorder: AuditChangeRecorder
    /// Where a published version's granted day and month caps are put on its agent.
    let ledger: Ledger
    let clock: @Sendable () -> Date

    /// Roles that decide submissions.
    static let reviewers: [Role] = [.reviewer, .admin]
    /// The longest purpose, comment or reason.
    static let textCharactersMax = 4000

    /// Submits `version` of the caller's agent `name` for review.
    func submit(agent name: String, version number: String, purpose: String, by user: User) async throws
        -> StoredSubmission
    {
        let purpose = try Self.text(purpose, field: "purpose")
        guard let agent = try await registry.agent(name: name), agent.ownerID == user.id else {
            throw RegistryError.agentNotFound(name)
        }
        guard agent.state != .suspended else { throw RegistryError.suspended(agent.name) }
        guard let version = try await registry.version(agentID: agent.id, version: number) else {
            throw RegistryError.versionNotFound(agent: agent.name, version: number)
        }
        _ = try version.state.after(.submit)
        let manifest = try AgentManifest(yaml: version.manifest)
        let policy = try await book.refresh()
        let checklist = policy.policy.evaluate(SubmissionFacts(manifest))
        let base = try await published(agent, other: number)
        let time = clock()
        let submission = StoredSubmission(
            id: RandomText.identifier(prefix: "sub"), agentID: agent.id, version: number,
            baseVersion: base?.version, submittedBy: user.id,
            purpose: purpose, checklist: checklist.items, policyRevision: policy.number,
            approvalsRequired: checklist.needsSecondReviewer ? 2 : 1, state: .open, grants: nil, createdAt: time,
            decidedAt: nil)
        let message = try message(
            .agentSubmitted, submission, agent: agent, by: user.id, outcome: checklist.result.rawValue, at: time)
        guard try await store.submit(submission, recording: [message]) else {
            throw RegistryError.conflict("\(agent.name) \(number)")
        }
        try await recorder.deliver([message])
        // An update that raises no risk keeps what review granted the version it replaces, however
        // it is approved: a reviewer's narrower grants are never widened without a human.
        var carried: Grants?
        var narrowed = false
        if let base,
            !VersionDelta(
                from: try AgentManifest(yaml: base.manifest), files: base.files, to: manifest, files: version.files
            )
            .raisesRisk,
            let previous = try await store.submissions(agentID: agent.id).last(where: {
                $0.version == base.version && $0.state == .approved
            })?.grants
        {
            let grants = Grants.carried(previous, to: manifest)
            carried = grants.problems(against: manifest).isEmpty ? grants : nil
            // Grants that cannot be carried (the update dropped all the reviewer allowed) go to a human.
            narrowed = carried == nil
        }
        if checklist.autoApprove, !narrowed {
            return try await settle(
                submission, agent: agent, decision: .approve, grants: carried ?? Grants(requested: manifest),
                by: "agentry", reason: "every approval criterion passed (policy revision \(policy.number))",
                kind: .autoApprove)
        }
        guard let base, let grants = carried, policy.policy.autoApproveUpdates == .whenRiskUnchanged,
            Checklist.allPass(checklist.items), !checklist.needsSecondReviewer
        else { return submission }
        return try await settle(
            submission, agent: agent, decision: .approve, grants: grants, by: "agentry",
            reason:
                "an update of \(base.version) that raises no risk keeps its grants (policy revision \(policy.number))",
            kind: .autoApprove)
    }

    /// The version of `agent` in the Catalog, unless it is `other`.
    func published(_ agent: StoredAgent, other: String) async throws -> StoredAgentVersion? {
        guard let number = agent.publishedVersion, number != other else { return nil }
        return try await registry.version(agentID: agent.id, version: number)
    }

    /// Adds a comment to the thread: by the submitter, the agent's owner, or a reviewer.
    func comment(on id: String, body: String, by user: User) async throws -> StoredReviewEvent {
        let body = try Self.text(body, field: "body")
        let (submission, agent) = try await visible(id, to: user)
        guard user.id == agent.ownerID || user.id == submission.submittedBy || Self.reviewers.contains(where: user.has)
        else { throw APIError.forbidden("commenting on submissions", needs: Self.reviewers) }
        let time = clock()
        let message = try message(
            .submissionCommented, submission, agent: agent, by: user.id, outcome: "comment", at: time)
        guard
            let event = try await store.append(
                submissionID: id, authorID: user.id, kind: .comment, body: body, at: time, recording: [message])
        else { throw APIError(.notFound, "submission_not_found", "no submission \(id)") }
        try await recorder.deliver([message])
        return event
    }

    /// A reviewer's decision, with its reason. An approval grants at most what was requested;
    /// it takes effect once the required number of distinct reviewers approved.
    func decide(
        _ id: String, decision: ReviewDecision, reason: String, grants requested: Grants?, by user: User
    ) async throws -> StoredSubmission {
        guard Self.reviewers.contains(where: user.has) else {
            throw APIError.forbidden("deciding submissions", needs: Self.reviewers)
        }
        let reason = try Self.text(reason, field: "reason")
        let (submission, agent) = try await visible(id, to: user)
        guard agent.state != .suspended else { throw RegistryError.suspended(agent.name) }
        guard user.id != agent.ownerID, user.id != submission.submittedBy else {
            throw APIError(.forbidden, "own_submission", "a reviewer cannot decide on their own agent")
        }
        try Self.requireOpen(submission)
        guard decision == .approve else {
            return try await settle(
                submission, agent: agent, decision: decision, grants: nil, by: user.id, reason: reason)
        }
        if let failed = submission.checklist.first(where: { $0.result == .fail }) {
            throw APIError(
                .conflict, "checklist_failed",
                "the approval criteria refuse this version (\(failed.rule): \(failed.message)); request changes or reject it"
            )
        }
        guard let version = try await registry.version(agentID: agent.id, version: submission.version) else {
            throw RegistryError.versionNotFound(agent: agent.name, version: submission.version)
        }
        let manifest = try AgentManifest(yaml: version.manifest)
        let grants = requested ?? Grants(requested: manifest)
        let problems = grants.problems(against: manifest)
        guard problems.isEmpty else {
            throw APIError(.badRequest, "invalid_grants", problems.joined(separator: "; "))
        }
        // Where two must approve, neither gives more than they granted: only what all granted,
        // which must still be something that can be given.
        let earlier = try await store.events(submissionID: id).filter { $0.kind == .approve && $0.authorID != user.id }
        let granted = earlier.compactMap(\.grants).reduce(grants) { $0.intersection($1) }
        let completes = Set(earlier.map(\.authorID)).count + 1 >= submission.approvalsRequired
        if completes, case let disagreements = granted.problems(against: manifest), !disagreements.isEmpty {
            throw APIError(
                .conflict, "grants_disagree",
                "what both reviewers granted cannot be given (\(disagreements.joined(separator: "; "))); grant what the first approval granted or less"
            )
        }
        let time = clock()
        let message = try message(.reviewDecided, submission, agent: agent, by: user.id, outcome: "approve", at: time)
        _ = try await store.append(
            submissionID: id, authorID: user.id, kind: .approve, body: reason, grants: grants, at: time,
            recording: [message])
        try await recorder.deliver([message])
        guard completes else { return submission }
        return try await settle(submission, agent: agent, decision: .approve, grants: granted, by: user.id, reason: nil)
    }

    /// The owner takes an open submission back; the version stays as it was submitted (withdrawn),
    /// and a new version carries on.
    func withdraw(_ id: String, by user: User) async throws -> StoredSubmission {
        let (submission, agent) = try await visible(id, to: user)
        guard user.id == agent.ownerID else { throw RegistryError.notOwner(agent: agent.name) }
        try Self.requireOpen(submission)
        let time = clock()
        let message = try message(
            .submissionWithdrawn, submission, agent: agent, by: user.id, outcome: "withdrawn", at: time)
        guard
            try await store.decide(
                submissionID: id, outcome: SubmissionOutcome(state: .withdrawn, versionState: .withdrawn, grants: nil),
                at: time, recording: [message])
        else { throw RegistryError.conflict("the submission \(id)") }
        try await recorder.deliver([message])
        _ = try await store.append(
            submissionID: id, authorID: user.id, kind: .withdraw, body: "withdrawn by its owner", at: time,
            recording: [])
        return try await reload(id)
    }

    /// The submission `id` with its agent, if `user` may see it: its submitter and the agent's
    /// owner, reviewers, admins and auditors. Others are told it does not exist.
    func visible(_ id: String, to user: User) async throws -> (StoredSubmission, StoredAgent) {
        guard let submission = try await store.submission(id: id),
            let agent = try await registry.agent(id: submission.agentID),
            user.id == submission.submittedBy || user.id == agent.ownerID
                || (Self.reviewers + [.auditor]).contains(where: user.has)
        else { throw APIError(.notFound, "submission_not_found", "no submission \(id)") }
        return (submission, agent)
    }

    /// Makes `decision` take effect: the thread entry (unless the approvals already wrote theirs),
    /// the submission and version states, publication, and their audit records.
    private func settle(
        _ submission: StoredSubmission, agent: StoredAgent, decision: ReviewDecision, grants: Grants?, by actor: String,
        reason: String?, kind: StoredReviewEvent.Kind? = nil
    ) async throws -> StoredSubmission {
        let time = clock()
        if let reason {
            let entry = kind ?? StoredReviewEvent.Kind(rawValue: decision.rawValue) ?? .comment
            let message = try message(
                .reviewDecided, submission, agent: agent, by: actor, outcome: decision.rawValue, at: time)
            _ = try await store.append(
                submissionID: submission.id, authorID: actor, kind: entry, body: reason, at: time, recording: [message])
            try await recorder.deliver([message])
        }
        let versionState = try AgentVersionState.submitted.after(decision.versionEvent)
        var messages: [ChangeMessage] = []
        var entry: CatalogEntry?
        if versionState == .published {
            messages.append(
                try message(.agentPublished, submission, agent: agent, by: actor, outcome: "published", at: time))
            guard let version = try await registry.version(agentID: agent.id, version: submission.version) else {
                throw RegistryError.versionNotFound(agent: agent.name, version: submission.version)
            }
            entry = CatalogEntry(agent: agent, manifest: try AgentManifest(yaml: version.manifest), at: time)
        }
        let outcome = SubmissionOutcome(
            state: decision.submissionState, versionState: versionState, grants: grants, catalogEntry: entry)
        guard try await store.decide(submissionID: submission.id, outcome: outcome, at: time, recording: messages)
        else {
            let now = try await reload(submission.id)
            guard now.state == decision.submissionState else {
                throw RegistryError.conflict("the submission \(submission.id)")
            }
            return now
        }
        try await recorder.deliver(messages)
        if versionState == .published, let grants { try await putCaps(of: grants, on: agent, by: actor) }
        return try await reload(submission.id)
    }

    /// Sets the agent's day and month caps to what its published version was granted (a cap not
    /// granted is removed), each change audited; caps already as granted are left alone.
    private func putCaps(of grants: Grants, on agent: StoredAgent, by actor: String) async throws {
        let scope = try LedgerScope(.agent, id: agent.name)
        let current = try await ledger.store.caps()
        var changes: [CapChange] = []
        for (window, granted) in [(CapWindow.day, grants.dayCap), (.month, grants.monthCap)] {
            let key = CapKey(scope: scope, window: window)
            let wanted = granted.map(Microdollars.init)
            if current[key] != wanted { changes.append(CapChange(key: key, limit: wanted)) }
        }
        if !changes.isEmpty { try await recorder.setCaps(changes, by: actor, on: ledger) }
    }

    private func reload(_ id: String) async throws -> StoredSubmission {
        guard let submission = try await store.submission(id: id) else {
            throw APIError(.notFound, "submission_not_found", "no submission \(id)")
        }
        return submission
    }

    private static func requireOpen(_ submission: StoredSubmission) throws {
        guard submission.state == .open else {
            throw APIError(
                .conflict, "submission_decided",
                "the submission is \(submission.state.rawValue.replacingOccurrences(of: "_", with: " ")); nothing more can be decided"
            )
        }
    }

    /// `text`, trimmed, if it is 1 to 4000 characters.
    static func text(_ text: String, field: String) throws -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= textCharactersMax else {
            throw APIError(.badRequest, "invalid_field", "\(field): must be 1 to \(textCharactersMax) characters")
        }
        return trimmed
    }

    private func message(
        _ kind: AuditEventKind, _ submission: StoredSubmission, agent: StoredAgent, by actor: String, outcome: String,
        at time: Date
    ) throws -> ChangeMessage {
        try recorder.message(
            for: AuditEvent(
                time: StoredTime.milliseconds(time), kind: kind, actor: actor, subject: submission.id,
                agent: agent.name,
                agentVersion: submission.version, outcome: outcome),
            at: time)
    }
}
