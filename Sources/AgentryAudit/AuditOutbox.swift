/// An audit entry written into the outbox inside the transaction of the change it records, so the
/// change and its record commit together; the entry is appended to the log afterwards, exactly once.
public struct OutboxEntry: Sendable, Equatable {
    /// Random identifier, `obx_…`.
    public let id: String
    /// `AuditAppend.outboxBody` of the entry.
    public let body: String

    /// Creates an entry.
    public init(id: String, body: String) {
        self.id = id
        self.body = body
    }
}

extension AuditAppend {
    /// The separator between the leaf and the payload lines of an outbox body (never a leaf line).
    static let outboxSeparator = "--\n"

    /// A text form of the entry for the outbox: the canonical leaf, then `--` and one
    /// `name salt-hex content-base64` line per payload.
    public func outboxBody() throws(AuditEncodingError) -> String {
        let leaf = String(decoding: try event.encoded(), as: UTF8.self)
        let lines = payloads.map { "\($0.name) \(HexText.encode($0.salt)) \(Base64Text.encode($0.bytes))\n" }
        return leaf + Self.outboxSeparator + lines.joined()
    }

    /// The entry of an outbox body, to be appended with `outboxID`.
    public init(outboxBody body: String, outboxID: String) throws(AuditEncodingError) {
        // The leaf's lines are `key value`, so the first line that is exactly `--` ends it.
        var lines = body.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.last == "", let separator = lines.firstIndex(of: "--") else {
            throw AuditEncodingError("an outbox body is a leaf, '--' and payload lines")
        }
        lines.removeLast()
        let leaf = lines[..<separator].map { $0 + "\n" }.joined()
        let event = try AuditEvent(leaf: Array(leaf.utf8))
        var payloads: [AuditPayload] = []
        for line in lines[(separator + 1)...] {
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 3, let salt = HexText.decode(String(fields[1])),
                salt.count == PayloadCommitment.saltByteCount, let bytes = Base64Text.decode(String(fields[2]))
            else { throw AuditEncodingError("an outbox payload line is 'name salt-hex content-base64'") }
            payloads.append(AuditPayload(name: String(fields[0]), bytes: bytes, salt: salt))
        }
        self.init(event: event, payloads: payloads)
        guard self.event == event else {
            throw AuditEncodingError("the outbox payloads do not match the event's commitments")
        }
        self.outboxID = outboxID
    }
}

/// Appends outbox entries whose change committed but whose delivery never happened (the process
/// died, or the store failed, between the two). Entries younger than `grace` are left to the
/// request that wrote them; the store's append skips an entry already delivered, so a drain racing
/// a late delivery still records it once.
public struct AuditOutboxDrainer: Sendable {
    private let store: any AuditStore
    private let log: AuditLog
    private let grace: Int64
    private let clock: @Sendable () -> Int64

    /// A drainer of `store`'s outbox through `log`, leaving entries younger than `grace` milliseconds.
    public init(store: any AuditStore, log: AuditLog, grace: Int64 = 10_000, clock: @escaping @Sendable () -> Int64) {
        self.store = store
        self.log = log
        self.grace = grace
        self.clock = clock
    }

    /// Appends every waiting entry older than the grace period; returns how many this call appended.
    /// An entry whose body does not decode is reported to `failed` and left in place.
    @discardableResult
    public func drain(failed: @Sendable (String, any Error) -> Void = { _, _ in }) async throws -> Int {
        var appends: [AuditAppend] = []
        for entry in try await store.outbox(olderThan: clock() - grace, limit: AuditLog.batchMax) {
            do { appends.append(try AuditAppend(outboxBody: entry.body, outboxID: entry.id)) } catch {
                failed(entry.id, error)
            }
        }
        // Delivered all at once, so a backlog shares the log's batches instead of one transaction each.
        return try await withThrowingTaskGroup(of: Int.self) { group in
            for append in appends { group.addTask { try await log.deliver(append) == nil ? 0 : 1 } }
            return try await group.reduce(0, +)
        }
    }
}
