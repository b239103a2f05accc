import AgentryAudit
import AgentryIdentity
import AgentryStore
import Foundation

/// Records identity changes in the audit log: each change becomes an audit entry written into the
/// outbox in the change's own transaction, then appended (and taken out of the outbox) once the
/// change has committed. `AuditOutboxDrainer` appends the entries a crash left behind.
struct AuditChangeRecorder: ChangeRecorder {
    let log: AuditLog

    func message(for change: IdentityChange, at time: Date) throws -> ChangeMessage {
        guard let kind = AuditEventKind(rawValue: change.kind.rawValue) else {
            preconditionFailure("every identity change has an audit event kind")
        }
        return try message(
            for: AuditEvent(
                time: StoredTime.milliseconds(time), kind: kind, actor: change.actor, subject: change.subject),
            at: time)
    }

    /// The outbox message of any audit event, for changes outside identity (caps), with its
    /// erasable payloads (a reason).
    func message(for event: AuditEvent, payloads: [AuditPayload] = [], at time: Date) throws -> ChangeMessage {
        try AuditOutboxMessage.make(for: event, payloads: payloads, at: time)
    }

    func deliver(_ messages: [ChangeMessage]) async throws {
        for message in messages {
            _ = try await log.deliver(try AuditAppend(outboxBody: message.body, outboxID: message.id))
        }
    }
}

/// Audit entries bound for the outbox, written in the transaction of the change they record.
public enum AuditOutboxMessage {
    /// The outbox message of `event`; also for changes made where no log runs (the CLI on the
    /// store), which the next running instance's drainer appends.
    public static func make(for event: AuditEvent, payloads: [AuditPayload] = [], at time: Date) throws
        -> ChangeMessage
    {
        let entry = AuditAppend(event: event, payloads: payloads)
        try entry.event.validate()
        return ChangeMessage(id: RandomText.identifier(prefix: "obx"), createdAt: time, body: try entry.outboxBody())
    }
}
