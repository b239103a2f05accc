import AgentryAudit
import AgentryLedger
import AgentryPolicy
import AgentryStore
import Foundation
import Logging
import ServiceLifecycle

/// The Sandbox policy in effect, and each user's personal Sandbox: created on first use, with
/// caps that follow the policy's defaults until an admin sets them otherwise.
final class SandboxService: Sendable {
    /// One revision of the Sandbox policy, parsed.
    typealias Revision = PolicyRevision<SandboxPolicy>

    let store: any SandboxStore
    /// The Sandbox policy's revisions.
    let book: PolicyBook<SandboxPolicy>
    let ledger: Ledger
    let recorder: AuditChangeRecorder

    /// Sandboxes whose caps are brought up to date per transaction.
    static let capsBatchMax = 500

    /// The service over `store`, starting with `defaults` until `refresh` reads a stored revision.
    init(
        store: any SandboxStore, policies: any PolicyStore, ledger: Ledger, recorder: AuditChangeRecorder,
        defaults: SandboxDefaults
    ) {
        self.store = store
        self.ledger = ledger
        self.recorder = recorder
        do {
            self.book = try PolicyBook(
                .sandbox, title: "Sandbox policy", changeKind: .sandboxPolicyChanged, base: defaults.yaml,
                store: policies, recorder: recorder, clock: ledger.now
            ) { yaml throws(FieldProblem) in try SandboxPolicy(yaml: yaml) }
        } catch {
            preconditionFailure("SandboxDefaults holds a policy that parses: \(error)")
        }
    }

    /// The revision in effect.
    var revision: Revision { book.revision }
    /// Revision 0.
    var base: Revision { book.base }
    /// Where the revisions are kept.
    var policies: any PolicyStore { book.store }

    /// Reads the newest stored revision and puts it in effect (other instances change it too).
    @discardableResult
    func refresh() async throws -> Revision { try await book.refresh() }

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
        // Each change expects the cap it was computed from: when another writer (a second
        // instance, or the catch-up racing a first use) changed one first, read again.
        var attempts = 1
        while try await changeCaps(of: revision, to: sandboxes), attempts < 5 { attempts += 1 }
        try await store.setCapsRevision(revision.number, userIDs: sandboxes.map(\.userID))
    }

    /// One attempt of `applyCaps`; true when a cap changed under it and it must read again.
    private func changeCaps(of revision: Revision, to sandboxes: [StoredSandbox]) async throws -> Bool {
        let caps = try await ledger.store.caps()
        var previous: [Int64: SandboxPolicy] = [:]
        var changes: [CapChange] = []
        for sandbox in sandboxes {
            let old: SandboxPolicy?
            if let number = sandbox.capsRevision {
                if previous[number] == nil { previous[number] = try await book.policy(revision: number) }
                old = previous[number]
            } else {
                old = nil
            }
            let scope = try LedgerScope(.user, id: sandbox.userID)
            for window in [CapWindow.day, .month] {
                let key = CapKey(scope: scope, window: window)
                let (have, want) = (caps[key], revision.policy.caps[window])
                let follows = old.map { have == $0.caps[window] } ?? (have == nil)
                if follows, have != want {
                    changes.append(CapChange(key: key, limit: want, expecting: .limit(have)))
                }
            }
        }
        guard !changes.isEmpty else { return false }
        return try await !recorder.setCaps(changes, by: revision.actor, on: ledger)
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
