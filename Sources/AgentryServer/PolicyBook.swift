import AgentryAudit
import AgentryPolicy
import AgentryStore
import Foundation
import Synchronization

/// One revision of a policy IT writes, parsed.
struct PolicyRevision<Policy: Sendable>: Sendable {
    /// 0 for the base policy (shipped or the installation's), then 1, 2, … per change.
    let number: Int64
    let policy: Policy
    let yaml: String
    /// Who set it and when; nil for revision 0.
    let createdAt: Date?
    let createdBy: String?

    /// Who changes made for this revision are attributed to.
    var actor: String { createdBy ?? "agentry" }
}

/// A policy kept as append-only revisions: the one in effect (cached, refreshed from the store,
/// where other instances change it too) and the audited way to change it.
final class PolicyBook<Policy: Sendable>: Sendable {
    let name: PolicyName
    let store: any PolicyStore
    let recorder: AuditChangeRecorder
    let clock: @Sendable () -> Date
    /// Reads a revision's YAML.
    let parse: @Sendable (String) throws(FieldProblem) -> Policy
    /// The audit kind of a change, and how messages name the policy.
    let changeKind: AuditEventKind
    let title: String
    /// Revision 0: the policy in effect until an admin sets one.
    let base: PolicyRevision<Policy>
    private let current: Mutex<PolicyRevision<Policy>>

    /// A book whose revision 0 is `yaml`, which must parse.
    init(
        _ name: PolicyName, title: String, changeKind: AuditEventKind, base yaml: String, store: any PolicyStore,
        recorder: AuditChangeRecorder, clock: @escaping @Sendable () -> Date,
        parse: @escaping @Sendable (String) throws(FieldProblem) -> Policy
    ) throws(FieldProblem) {
        let base = PolicyRevision(number: 0, policy: try parse(yaml), yaml: yaml, createdAt: nil, createdBy: nil)
        (self.name, self.title, self.changeKind, self.store, self.recorder, self.clock, self.parse) =
            (name, title, changeKind, store, recorder, clock, parse)
        self.base = base
        self.current = Mutex(base)
    }

    /// The revision in effect.
    var revision: PolicyRevision<Policy> { current.withLock { $0 } }

    /// Reads the newest stored revision and puts it in effect; revisions only move forward.
    @discardableResult
    func refresh() async throws -> PolicyRevision<Policy> {
        let newest = try await store.current(name).map(parsed) ?? base
        return current.withLock { revision in
            if newest.number > revision.number { revision = newest }
            return revision
        }
    }

    /// Appends `yaml` as the next revision with its audit record. `expected`, when given, is the
    /// revision the admin edited: a newer one is a conflict (409), as is a concurrent change.
    func set(yaml: String, expected: Int64?, by actor: String) async throws -> PolicyRevision<Policy> {
        let policy: Policy
        do {
            policy = try parse(yaml)
        } catch {
            throw APIError(.badRequest, "invalid_policy", "yaml: \(error.description)")
        }
        let before = try await refresh()
        if let expected, expected != before.number {
            throw APIError(
                .conflict, "revision_conflict",
                "the \(title) is at revision \(before.number), not \(expected): read it again and reapply your change")
        }
        let time = clock()
        let stored = StoredPolicyRevision(
            policy: name, revision: before.number + 1, yaml: yaml, createdAt: time, createdBy: actor)
        let message = try recorder.message(
            for: AuditEvent(
                time: StoredTime.milliseconds(time), kind: changeKind, actor: actor,
                subject: "revision:\(stored.revision)", outcome: "set"),
            at: time)
        guard try await store.append(stored, recording: [message]) else {
            throw APIError(.conflict, "revision_conflict", "another change to the \(title) landed first: read it again")
        }
        try await recorder.deliver([message])
        let revision = PolicyRevision(
            number: stored.revision, policy: policy, yaml: yaml, createdAt: time, createdBy: actor)
        current.withLock { if revision.number > $0.number { $0 = revision } }
        return revision
    }

    /// Revision `number`'s policy; the base policy for 0.
    func policy(revision number: Int64) async throws -> Policy {
        guard number > 0, let stored = try await store.revision(name, number) else { return base.policy }
        return try parsed(stored).policy
    }

    private func parsed(_ stored: StoredPolicyRevision) throws -> PolicyRevision<Policy> {
        PolicyRevision(
            number: stored.revision, policy: try parse(stored.yaml), yaml: stored.yaml, createdAt: stored.createdAt,
            createdBy: stored.createdBy)
    }
}
