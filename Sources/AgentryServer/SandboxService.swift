import AgentryAudit
import AgentryLedger
import AgentryPolicy
import AgentryStore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The Sandbox policy in effect, and each user's personal Sandbox: created on first use, with
/// caps that follow the policy's defaults until an admin sets them otherwise.
final class SandboxService: Sendable {
    /// One revision of the policy, parsed.
    struct Revision: Sendable {
        /// 0 for the shipped policy, then 1, 2, … per change.
        let number: Int64
        let policy: SandboxPolicy
        let yaml: String
        /// Who set it and when; nil for the shipped policy.
        let createdAt: Date?
        let createdBy: String?

        /// Who cap changes made for this revision are attributed to.
        var actor: String { createdBy ?? "agentry" }
    }

    let store: any SandboxStore
    /// Where the Sandbox policy's revisions are kept.
    let policies: any PolicyStore
    let ledger: Ledger
    let recorder: AuditChangeRecorder
    /// Revision 0: the policy in effect until an admin sets one.
    let base: Revision
    private let current: Mutex<Revision>

    /// Sandboxes whose caps are brought up to date per transaction.
    static let capsBatchMax = 500

    /// The service over `store`, starting with `defaults` until `refresh` reads a stored revision.
    init(
        store: any SandboxStore, policies: any PolicyStore, ledger: Ledger, recorder: AuditChangeRecorder,
        defaults: SandboxDefaults
    ) {
        self.store = store
        self.policies = policies
        self.ledger = ledger
        self.recorder = recorder
        let base = Revision(number: 0, policy: defaults.policy, yaml: defaults.yaml, createdAt: nil, createdBy: nil)
        self.base = base
        self.current = Mutex(base)
    }

    /// The revision in effect.
    var revision: Revision { current.withLock { $0 } }

    /// Reads the newest stored revision and puts it in effect (other instances change it too).
    @discardableResult
    func refresh() async throws -> Revision {
        let stored = try await policies.current(.sandbox)
        let newest = try stored.map(Self.parse) ?? base
        return current.withLock { revision in
            if newest.number > revision.number { revision = newest }
            return revision
        }
    }

    /// Appends `yaml` as the next revision, then brings every Sandbox's caps to its defaults.
    /// `expected`, when given, is the revision the admin edited: a newer one is a conflict.
    func setPolicy(yaml: String, expected: Int64?, by actor: String) async throws -> Revision {
        let policy: SandboxPolicy
        do {
            policy = try SandboxPolicy(yaml: yaml)
        } catch {
            throw APIError(.badRequest, "invalid_policy", "yaml: \(error.description)")
        }
        let base = try await refresh()
        if let expected, expected != base.number {
            throw APIError(
                .conflict, "revision_conflict",
                "the Sandbox policy is at revision \(base.number), not \(expected): read it again and reapply your change"
            )
        }
        let time = ledger.now()
        let stored = StoredPolicyRevision(
            policy: .sandbox, revision: base.number + 1, yaml: yaml, createdAt: time, createdBy: actor)
        let message = try recorder.message(
            for: AuditEvent(
                time: StoredTime.milliseconds(time), kind: .sandboxPolicyChanged, actor: actor,
                subject: "revision:\(stored.revision)", outcome: "set"),
            at: time)
        guard try await policies.append(stored, recording: [message]) else {
            throw APIError(
                .conflict, "revision_conflict", "another change to the Sandbox policy landed first: read it again")
        }
        try await recorder.deliver([message])
        let revision = Revision(number: stored.revision, policy: policy, yaml: yaml, createdAt: time, createdBy: actor)
        current.withLock { if revision.number > $0.number { $0 = revision } }
        try await bringCapsUpToDate()
        return revision
    }

    /// The Sandbox of `userID`, created now if this is the user's first use; its caps follow the
    /// revision in effect.
    func ensure(userID: String) async throws -> StoredSandbox {
        let revision = self.revision
        var sandbox: StoredSandbox
        if let existing = try await store.sandbox(userID: userID) {
            sandbox = existing
        } else {
            let time = ledger.now()
            let message = try recorder.message(
                for: AuditEvent(
                    time: StoredTime.milliseconds(time), kind: .sandboxCreated, actor: userID, subject: userID,
                    outcome: "created"),
                at: time)
            let (stored, created) = try await store.createSandbox(
                StoredSandbox(userID: userID, createdAt: time, capsRevision: nil), recording: [message])
            if created { try await recorder.deliver([message]) }
            sandbox = stored
        }
        // Only forward: an instance that has not yet read a newer revision leaves the caps alone.
        if sandbox.capsRevision.map({ $0 < revision.number }) ?? true {
            try await applyCaps(of: revision, to: [sandbox])
            sandbox = StoredSandbox(userID: userID, createdAt: sandbox.createdAt, capsRevision: revision.number)
        }
        return sandbox
    }

    /// Brings the caps of every Sandbox that follows an older revision (or none) to the one in effect.
    func bringCapsUpToDate() async throws {
        let revision = self.revision
        while true {
            let behind = try await store.sandboxes(capsRevisionBelow: revision.number, limit: Self.capsBatchMax)
            guard !behind.isEmpty else { return }
            try await applyCaps(of: revision, to: behind)
        }
    }

    /// Sets the day and month caps of `sandboxes` to `revision`'s defaults where they still are
    /// the defaults of the revision they followed (or unset, for a new Sandbox): a cap an admin
    /// set by hand stays. The per-run default applies to each run, not to the Sandbox.
    private func applyCaps(of revision: Revision, to sandboxes: [StoredSandbox]) async throws {
        let caps = try await ledger.store.caps()
        var previous: [Int64: SandboxPolicy] = [:]
        var changes: [CapChange] = []
        for sandbox in sandboxes {
            let old: SandboxPolicy?
            if let number = sandbox.capsRevision {
                if previous[number] == nil { previous[number] = try await policy(revision: number) }
                old = previous[number]
            } else {
                old = nil
            }
            let scope = try LedgerScope(.user, id: sandbox.userID)
            for window in [CapWindow.day, .month] {
                let key = CapKey(scope: scope, window: window)
                let (have, want) = (caps[key], revision.policy.caps[window])
                let follows = old.map { have == $0.caps[window] } ?? (have == nil)
                if follows, have != want { changes.append(CapChange(key: key, limit: want)) }
            }
        }
        if !changes.isEmpty {
            let time = ledger.now()
            let messages = try changes.map { change in
                try recorder.message(
                    for: AuditEvent(
                        time: StoredTime.milliseconds(time), kind: .capChanged, actor: revision.actor,
                        subject: "\(change.key.scope)/\(change.key.window.rawValue)",
                        outcome: change.limit == nil ? "removed" : "set", costMicrodollars: change.limit?.value),
                    at: time)
            }
            try await ledger.setCaps(changes, recording: messages)
            try await recorder.deliver(messages)
        }
        try await store.setCapsRevision(revision.number, userIDs: sandboxes.map(\.userID))
    }

    /// Revision `number`, parsed; the base policy for 0.
    private func policy(revision number: Int64) async throws -> SandboxPolicy {
        guard number > 0, let stored = try await policies.revision(.sandbox, number) else { return base.policy }
        return try Self.parse(stored).policy
    }

    private static func parse(_ stored: StoredPolicyRevision) throws -> Revision {
        Revision(
            number: stored.revision, policy: try SandboxPolicy(yaml: stored.yaml), yaml: stored.yaml,
            createdAt: stored.createdAt, createdBy: stored.createdBy)
    }
}

/// Keeps every instance on the newest Sandbox policy and finishes cap updates a crash cut short.
struct SandboxPolicyService: Service {
    let sandboxes: SandboxService
    let logger: Logger
    var interval: Duration = .seconds(5)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await sandboxes.refresh()
                    try await sandboxes.bringCapsUpToDate()
                } catch {
                    logger.warning("sandbox.policy_refresh_failed", metadata: ["error": .string("\(error)")])
                }
                do { try await Task.sleep(for: interval) } catch { return }
            }
        }
    }
}
