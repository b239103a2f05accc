import AgentryAudit
import Logging
import ServiceLifecycle

/// Signs checkpoints of the audit log: at most every second when the tree grew, and on demand;
/// only after the records are durable; each also appended to the checkpoint file.
///
/// At start it checks the tree against the newest checkpoint in the file; if the database holds
/// fewer records or a different history, it refuses to sign, logs the reason loudly and makes
/// `/readyz` fail, because the log was truncated or rewritten behind its back.
public actor AuditCheckpointer: Service {
    private let store: any AuditStore
    private let signer: NoteSigner
    private let file: CheckpointFile
    private let logger: Logger
    private let clock: @Sendable () -> Int64
    private var signedSize: Int64 = -1
    /// True while a checkpoint is being signed; the actor is re-entrant at each await, so calls queue on this.
    private var signing = false
    /// Why signing is refused, or nil when the log is consistent with its checkpoints.
    public private(set) var problem: String?

    /// Creates the checkpointer.
    public init(
        store: any AuditStore, signer: NoteSigner, file: CheckpointFile, logger: Logger,
        clock: @escaping @Sendable () -> Int64
    ) {
        self.store = store
        self.signer = signer
        self.file = file
        self.logger = logger
        self.clock = clock
    }

    /// The verifier for this log's checkpoints.
    public nonisolated var verifier: NoteVerifier { signer.verifier }

    /// Checks the log against the newest checkpoint kept outside the database; sets `problem` on a mismatch.
    public func checkAgainstFile() async throws {
        guard let note = try file.latestNote() else { return }
        let external: Checkpoint
        do {
            external = try Checkpoint.open(note, verifier: signer.verifier)
        } catch {
            return refuse("the newest checkpoint in \(file.path) is not signed by the log's key (\(error))")
        }
        let size = try await store.size()
        guard external.size <= size else {
            return refuse(
                "the log holds \(size) records but \(file.path) has a checkpoint of \(external.size): the database was truncated"
            )
        }
        guard try await MerkleTree.treeHash(size: external.size, reader: store) == external.root else {
            return refuse(
                "the log's first \(external.size) records differ from the checkpoint in \(file.path): the database was rewritten"
            )
        }
    }

    private func refuse(_ reason: String) {
        problem = reason
        logger.critical("audit.inconsistent", metadata: ["audit.problem": .string(reason)])
    }

    /// Signs, stores and files a checkpoint if the tree grew since the last one; returns the newest note.
    @discardableResult
    public func checkpoint() async throws -> (size: Int64, note: String)? {
        guard problem == nil else { throw AuditKeyError(description: problem ?? "") }
        while signing { try await Task.sleep(for: .milliseconds(5)) }
        signing = true
        defer { signing = false }
        let size = try await store.size()
        if signedSize < 0 { signedSize = try await store.latestCheckpoint()?.size ?? 0 }
        guard size > signedSize else { return try await store.latestCheckpoint() }
        let (store, signer, file, now) = (self.store, self.signer, self.file, clock())
        // One instance at a time signs; under the lease, sign what is durable now unless another
        // instance already covered it.
        let signed = try await store.withCheckpointLease { () -> (size: Int64, note: String)? in
            let size = try await store.size()
            if let latest = try await store.latestCheckpoint(), latest.size >= size { return nil }
            let root = try await MerkleTree.treeHash(size: size, reader: store)
            let note = try Checkpoint(origin: signer.name, size: size, root: root).signed(by: signer)
            try await store.storeCheckpoint(size: size, note: note, at: now)
            try file.append(size: size, note: note)
            return (size, note)
        }
        guard let signed = signed ?? nil else {
            let latest = try await store.latestCheckpoint()
            signedSize = max(signedSize, latest?.size ?? 0)
            return latest
        }
        signedSize = signed.size
        return signed
    }

    /// Checkpoints every second until graceful shutdown.
    public func run() async throws {
        // Graceful shutdown cancels the loop; a cancelled sleep is how it ends, not an error.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(1))
                do {
                    if await self.problem == nil { try await self.checkpoint() }
                } catch is CancellationError {
                    return
                } catch {
                    self.logger.error("audit.checkpoint_failed", metadata: ["error.description": .string("\(error)")])
                }
            }
        }
    }
}
