import AgentryAudit
import AgentryIdentity
import Foundation
import Hummingbird

/// `/api/v1/audit`: checkpoints, records, receipts, proofs and payloads for auditors and admins;
/// payload erasure for admins.
struct AuditController: Sendable {
    let store: any AuditStore
    let log: AuditLog
    let checkpointer: AuditCheckpointer
    let bodyBytesMax: Int

    static let readers: [Role] = [.auditor, .admin]
    /// Records per page at most.
    static let pageSizeMax = 1000

    func register(on api: APIRouter) {
        api.on(.get, "audit/checkpoint", latestCheckpoint)
        api.on(.post, "audit/checkpoint", latestCheckpoint)
        api.on(.get, "audit/records", records)
        api.on(.get, "audit/records/{index}", receipt)
        api.on(.get, "audit/consistency", consistency)
        api.on(.get, "audit/records/{index}/payloads/{name}", payload)
        api.on(.post, "audit/records/{index}/payloads/{name}/erase", erase)
    }

    /// The newest checkpoint; POST first signs one if the tree grew (a checkpoint on demand).
    @Sendable func latestCheckpoint(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        try context.caller().require(Self.readers, to: "reading the audit log")
        return try JSONResponse.make(try await current(signNow: request.method == .post))
    }

    @Sendable func records(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        try context.caller().require(Self.readers, to: "reading the audit log")
        let query = request.uri.queryParameters
        let from = try QueryInteger.parse(
            query["from"].map(String.init), name: "from", default: 0, range: 0...Int64.max)
        let limit = Int(
            try QueryInteger.parse(
                query["limit"].map(String.init), name: "limit", default: 100, range: 1...Int64(Self.pageSizeMax)))
        var filter = AuditFilter()
        if let kind = query["kind"].map(String.init) {
            guard let parsed = AuditEventKind(rawValue: kind) else {
                throw APIError.invalidQuery(
                    "kind",
                    "is not an event kind; known kinds: \(AuditEventKind.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            filter.kind = parsed
        }
        (filter.actor, filter.subject) = (query["actor"].map(String.init), query["subject"].map(String.init))
        (filter.agent, filter.run) = (query["agent"].map(String.init), query["run"].map(String.init))
        filter.since = try query["since"].map {
            try QueryInteger.parse(String($0), name: "since", default: 0, range: 0...Int64.max)
        }
        filter.until = try query["until"].map {
            try QueryInteger.parse(String($0), name: "until", default: 0, range: 0...Int64.max)
        }
        let found = try await store.records(matching: filter, from: from, count: limit + 1)
        let page = Array(found.prefix(limit))
        return try JSONResponse.make(
            AuditPage(
                items: try page.map(AuditRecordView.init), nextFrom: found.count > limit ? found[limit].index : nil))
    }

    /// A record with its inclusion proof against the newest checkpoint (signed now if needed).
    @Sendable func receipt(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        try context.caller().require(Self.readers, to: "reading the audit log")
        let index = try Self.recordIndex(context)
        guard let record = try await store.records(from: index, count: 1).first, record.index == index,
            index < (try await store.size())
        else { throw APIError(.notFound, "record_not_found", "the audit log has no record \(index)") }
        var checkpoint = try await current(signNow: false)
        // A record newer than the newest checkpoint gets one signed now; if another instance holds
        // the signing lease, its checkpoint appears within moments.
        var attempts = 0
        while checkpoint.size <= index {
            attempts += 1
            guard attempts <= 30 else {
                throw APIError(
                    .serviceUnavailable, "checkpoint_pending",
                    "no checkpoint covers record \(index) yet; retry in a second")
            }
            checkpoint = try await current(signNow: attempts == 1)
            if checkpoint.size <= index { try await Task.sleep(for: .milliseconds(100)) }
        }
        let proof = try await MerkleTree.proveInclusion(size: checkpoint.size, index: index, reader: store)
        return try JSONResponse.make(
            ReceiptView(
                record: try AuditRecordView(record), inclusionProof: proof.map(\.base64), checkpoint: checkpoint))
    }

    @Sendable func consistency(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        try context.caller().require(Self.readers, to: "reading the audit log")
        let query = request.uri.queryParameters
        let size = try await store.size()
        guard size > 0 else {
            throw APIError(.notFound, "no_checkpoint", "the audit log is empty; there is nothing to prove")
        }
        let from = try QueryInteger.parse(query["from"].map(String.init), name: "from", default: nil, range: 1...size)
        let to = try QueryInteger.parse(
            query["to"].map(String.init), name: "to", default: size, range: from...max(from, size))
        guard to <= size else { throw APIError.invalidQuery("to", "is beyond the log's \(size) records") }
        let proof = try await MerkleTree.proveConsistency(size: to, oldSize: from, reader: store)
        return try JSONResponse.make(ConsistencyView(from: from, to: to, proof: proof.map(\.base64)))
    }

    @Sendable func payload(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        try context.caller().require(Self.readers, to: "reading audit payloads")
        let stored = try await storedPayload(context)
        return try JSONResponse.make(
            PayloadContentView(
                commitment: stored.commitment.hex, recordIndex: stored.recordIndex, name: stored.payload.name,
                content: Base64Text.encode(stored.payload.bytes), salt: HexText.encode(stored.payload.salt)))
    }

    /// Deletes a payload and its salt, and appends a `payload.erased` event whose reason is itself a payload.
    @Sendable func erase(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        try caller.require([.admin], to: "erasing audit payloads")
        let stored = try await storedPayload(context)
        var request = request
        let body = try await request.decodeJSON(EraseBody.self, limit: bodyBytesMax)
        let reason = try Validate.label(body.reason, field: "reason", max: 2000)
        let erasure = AuditAppend(
            event: AuditEvent(
                time: Int64(Date().timeIntervalSince1970 * 1000), kind: .payloadErased, actor: caller.user.id,
                erases: stored.commitment),
            payloads: [AuditPayload(name: "reason", bytes: Array(reason.utf8))])
        guard
            let record = try await store.erasePayload(
                record: stored.recordIndex, name: stored.payload.name, erasure: erasure)
        else { throw Self.payloadNotFound(stored.recordIndex, stored.payload.name) }
        context.logger.notice("audit.payload_erased", metadata: ["audit.record": .stringConvertible(record.index)])
        return try JSONResponse.make(try AuditRecordView(record), status: .created)
    }

    private func current(signNow: Bool) async throws -> CheckpointView {
        let none = try await store.latestCheckpoint() == nil
        if signNow || none {
            do { try await checkpointer.checkpoint() } catch let error as AuditKeyError {
                throw APIError(.serviceUnavailable, "audit_inconsistent", error.description)
            }
        }
        guard let (size, note) = try await store.latestCheckpoint() else {
            throw APIError(.notFound, "no_checkpoint", "the audit log is empty; nothing has been checkpointed yet")
        }
        guard let checkpoint = try? Checkpoint.open(note, verifier: checkpointer.verifier) else {
            throw APIError(
                .serviceUnavailable, "audit_inconsistent",
                "the newest stored checkpoint is not signed by this instance's key; check the signing key")
        }
        return CheckpointView(
            size: size, root: checkpoint.root.hex, note: note, verifierKey: checkpointer.verifier.verifierKey)
    }

    private static func recordIndex(_ context: AgentryRequestContext) throws -> Int64 {
        guard let index = Int64(try context.parameters.require("index")), index >= 0 else {
            throw APIError.invalidQuery("index", "must be a record number")
        }
        return index
    }

    /// The payload the path names (`{index}` and `{name}`), or 404.
    private func storedPayload(_ context: AgentryRequestContext) async throws -> StoredPayload {
        let index = try Self.recordIndex(context)
        let name = try context.parameters.require("name")
        guard let stored = try await store.payload(record: index, name: name) else {
            throw Self.payloadNotFound(index, name)
        }
        return stored
    }

    private static func payloadNotFound(_ index: Int64, _ name: String) -> APIError {
        APIError(
            .notFound, "payload_not_found",
            "record \(index) has no stored payload called '\(name)' (it may never have had one, or it was erased)")
    }
}
