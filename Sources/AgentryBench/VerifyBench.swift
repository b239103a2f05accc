import AgentryAudit
import AgentryStore
import ArgumentParser
import Foundation

/// Full verification of a large log and proof generation on it, against plain reads of the same data.
struct VerifyBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: "Audit verify and proof timings.")
    @OptionGroup var store: StoreOptions
    @Option(help: "Records in the log.") var records = 1_000_000
    @Option(help: "Proofs of each kind to time.") var proofs = 10_000
    @Option(help: "Payloads (1 KiB) to re-hash, timed separately.") var payloads = 100_000

    func run() async throws {
        let (backend, cleanup) = try await store.open()
        defer { cleanup() }
        let audit = backend.audit
        let fillStart = ContinuousClock.now
        try await fill(audit)
        let fill = ContinuousClock.now - fillStart
        let signer = try NoteSigner.generate(name: "bench/audit").signer
        let size = try await audit.size()
        let checkpoint = Checkpoint(
            origin: "bench/audit", size: size, root: try await MerkleTree.treeHash(size: size, reader: audit))
        try await audit.storeCheckpoint(size: size, note: try checkpoint.signed(by: signer), at: 0)

        let readStart = ContinuousClock.now
        var start: Int64 = 0
        while start < size {
            start += Int64(try await audit.records(from: start, count: 10_000).count)
        }
        let readAll = ContinuousClock.now - readStart
        let verifyStart = ContinuousClock.now
        let verified = try await AuditVerifier.verify(store: audit, verifier: signer.verifier)
        let verify = ContinuousClock.now - verifyStart
        precondition(verified.size == size, "verify saw every record")

        let payload = [UInt8](repeating: 0x62, count: 1024)
        let salt = PayloadCommitment.newSalt()
        let hashStart = ContinuousClock.now
        for _ in 0..<payloads { _ = PayloadCommitment.commit(payload: payload, salt: salt) }
        let payloadHash = ContinuousClock.now - hashStart

        let (inclusion, consistency, point) = try await timeProofs(audit, size: size)
        try await backend.close()
        try report([
            "benchmark": "audit-verify", "store": backend.kind, "records": size, "fill_seconds": seconds(fill),
            "verify_seconds": seconds(verify), "read_all_seconds": seconds(readAll),
            "verify_over_read": seconds(verify) / max(seconds(readAll), 0.001),
            "payload_rehash_per_second": (Double(payloads) / seconds(payloadHash)).rounded(),
            "inclusion_p50_ms": inclusion.percentile(50), "inclusion_p99_ms": inclusion.percentile(99),
            "consistency_p50_ms": consistency.percentile(50), "consistency_p99_ms": consistency.percentile(99),
            "point_read_p50_ms": point.percentile(50), "point_read_p99_ms": point.percentile(99),
        ])
    }

    private func fill(_ audit: any AuditStore) async throws {
        var index = 0
        while index < records {
            let batch = (index..<min(index + 5000, records)).map { number in
                AuditAppend(
                    event: AuditEvent(
                        time: 1_790_000_000_000 + Int64(number), kind: .toolCall, actor: "usr_\(number % 97)",
                        run: "run_\(number / 10)", tool: "slack.post_message", costMicrodollars: Int64(number % 1000)))
            }
            _ = try await audit.append(batch)
            index += batch.count
        }
    }

    private func timeProofs(_ audit: any AuditStore, size: Int64) async throws -> (Samples, Samples, Samples) {
        var generator = SystemRandomNumberGenerator()
        var inclusion = Samples()
        var consistency = Samples()
        var point = Samples()
        for _ in 0..<proofs {
            let index = Int64.random(in: 0..<size, using: &generator)
            var begin = ContinuousClock.now
            _ = try await MerkleTree.proveInclusion(size: size, index: index, reader: audit)
            inclusion.add(ContinuousClock.now - begin)
            begin = ContinuousClock.now
            _ = try await MerkleTree.proveConsistency(size: size, oldSize: max(1, index), reader: audit)
            consistency.add(ContinuousClock.now - begin)
            begin = ContinuousClock.now
            _ = try await audit.readHashes([MerkleTree.storedHashIndex(level: 0, n: index)])
            point.add(ContinuousClock.now - begin)
        }
        return (inclusion, consistency, point)
    }

    private func seconds(_ duration: Duration) -> Double { Double(duration / .microseconds(1)) / 1_000_000 }
}
