import AgentryAudit
import AgentryStore
import Foundation

/// Builders for audit tests: events, a signing key, and a populated log.
public enum AuditFixtures {
    /// The log origin tests sign with.
    public static let origin = "agentry.test/audit"

    /// A fresh signing key for `origin`.
    public static func signer() throws -> NoteSigner { try NoteSigner.generate(name: origin).signer }

    /// An event of record `index`, with an input and output payload every third record.
    public static func append(_ index: Int, time: Int64 = 1_790_000_000_000) -> AuditAppend {
        let event = AuditEvent(
            time: time + Int64(index), kind: index % 3 == 0 ? .modelCall : .userCreated, actor: "usr_\(index % 5)",
            subject: "usr_s\(index)", agent: index % 3 == 0 ? "agent-\(index % 4)" : nil,
            run: index % 3 == 0 ? "run_\(index)" : nil)
        let payloads =
            index % 3 == 0
            ? [
                AuditPayload(name: "input", bytes: Array("prompt \(index)".utf8)),
                AuditPayload(name: "output", bytes: Array("answer \(index)".utf8)),
            ] : []
        return AuditAppend(event: event, payloads: payloads)
    }

    /// Appends `count` fixture events in batches of 7 (so batches straddle subtree boundaries).
    public static func populate(_ store: any AuditStore, count: Int) async throws {
        var index = 0
        while index < count {
            let batch = (index..<min(index + 7, count)).map { append($0) }
            _ = try await store.append(batch)
            index += batch.count
        }
    }

    /// Signs and stores a checkpoint of the store's current size; returns it.
    @discardableResult
    public static func checkpoint(_ store: any AuditStore, signer: NoteSigner) async throws -> Checkpoint {
        let size = try await store.size()
        let checkpoint = Checkpoint(
            origin: origin, size: size, root: try await MerkleTree.treeHash(size: size, reader: store))
        try await store.storeCheckpoint(size: size, note: try checkpoint.signed(by: signer), at: 0)
        return checkpoint
    }

    /// SQL that lets a test act as an attacker with full database access: the append-only triggers go.
    public static func dropAppendOnlyGuards(_ location: StoreFixture.Location) async throws {
        switch location {
        case .sqlite:
            for table in ["audit_records", "audit_hashes", "audit_checkpoints"] {
                for operation in ["update", "delete"] {
                    try await RawSQL.execute("DROP TRIGGER \(table)_no_\(operation)", on: location)
                }
            }
        case .postgres:
            for table in ["audit_records", "audit_hashes", "audit_checkpoints"] {
                try await RawSQL.execute("ALTER TABLE \(table) DISABLE TRIGGER USER", on: location)
            }
        }
    }
}
