import AgentryAudit
import Foundation

/// Writes and reads the offline audit bundle: a directory of JSON-lines files and a README.
public enum AuditBundleFiles {
    struct RecordLine: Codable {
        let index: Int64
        let leaf: String
    }

    struct CheckpointLine: Codable {
        let size: Int64
        let note: String
    }

    struct PayloadLine: Codable {
        let commitment: String
        let recordIndex: Int64
        let name: String
        let salt: String
        let content: String
    }

    /// Writes every record, checkpoint and (unless `withPayloads` is false) payload of `store` into `directory`.
    public static func export(
        store: any AuditStore, verifierKey: String, to directory: String, withPayloads: Bool
    ) async throws -> Int64 {
        guard !FileManager.default.fileExists(atPath: directory) else {
            throw AuditKeyError(description: "\(directory) already exists; choose a new directory for the bundle")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        // Checkpoints before the size, and pages cut at the size: a log appended to meanwhile is
        // exported as of its size at the start, with only checkpoints that size covers.
        let storedCheckpoints = try await store.checkpoints()
        let size = try await store.size()
        var records = Data()
        var payloads = Data()
        var start: Int64 = 0
        while start < size {
            let page = try await store.records(from: start, count: Int(min(10_000, size - start)))
            guard !page.isEmpty else { break }
            for record in page {
                records +=
                    try encoder.encode(
                        RecordLine(index: record.index, leaf: String(decoding: record.leaf, as: UTF8.self))) + [0x0A]
            }
            if withPayloads {
                for stored in try await store.payloads(from: start, count: page.count) {
                    payloads +=
                        try encoder.encode(
                            PayloadLine(
                                commitment: stored.commitment.hex, recordIndex: stored.recordIndex,
                                name: stored.payload.name,
                                salt: HexText.encode(stored.payload.salt),
                                content: Base64Text.encode(stored.payload.bytes)))
                        + [0x0A]
                }
            }
            start += Int64(page.count)
        }
        var checkpoints = Data()
        for (size, note) in storedCheckpoints {
            checkpoints += try encoder.encode(CheckpointLine(size: size, note: note)) + [0x0A]
        }
        try records.write(to: URL(fileURLWithPath: directory + "/records.jsonl"))
        try checkpoints.write(to: URL(fileURLWithPath: directory + "/checkpoints.jsonl"))
        try payloads.write(to: URL(fileURLWithPath: directory + "/payloads.jsonl"))
        try Data((verifierKey + "\n").utf8).write(to: URL(fileURLWithPath: directory + "/verifier-key.txt"))
        try Data(readme(size: size, withPayloads: withPayloads).utf8).write(
            to: URL(fileURLWithPath: directory + "/README.md"))
        return size
    }

    /// Reads a bundle directory.
    public static func load(_ directory: String) throws -> AuditBundle {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        func lines<T: Decodable>(_ name: String, as type: T.Type) throws -> [T] {
            let path = directory + "/" + name
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw AuditKeyError(description: "cannot read \(path); is \(directory) an audit bundle?")
            }
            return try text.split(separator: "\n").enumerated().map { number, line in
                do { return try decoder.decode(T.self, from: Data(line.utf8)) } catch {
                    throw AuditKeyError(description: "\(path) line \(number + 1) is malformed")
                }
            }
        }
        let records = try lines("records.jsonl", as: RecordLine.self).map {
            AuditRecord(index: $0.index, leaf: Array($0.leaf.utf8))
        }
        let checkpoints = try lines("checkpoints.jsonl", as: CheckpointLine.self).map { (size: $0.size, note: $0.note) }
        let payloads = try lines("payloads.jsonl", as: PayloadLine.self).map { line in
            guard let commitment = LogHash(hex: line.commitment), let salt = HexText.decode(line.salt),
                salt.count == PayloadCommitment.saltByteCount,
                let bytes = Base64Text.decode(line.content)
            else {
                throw AuditKeyError(
                    description: "payloads.jsonl has a malformed payload for record \(line.recordIndex)")
            }
            return StoredPayload(
                commitment: commitment, recordIndex: line.recordIndex,
                payload: AuditPayload(name: line.name, bytes: bytes, salt: salt))
        }
        return AuditBundle(records: records, checkpoints: checkpoints, payloads: payloads)
    }

    static func readme(size: Int64, withPayloads: Bool) -> String {
        """
        # Agentry audit log bundle

        This directory is a copy of an Agentry audit log of \(size) records, made to be checked without
        trusting the system that produced it. `verifier-key.txt` is the log's public key as the bundle
        states it: compare it with the key you received from the operator through another channel.

        Files: `records.jsonl` (index and exact leaf text of every record), `checkpoints.jsonl`
        (C2SP tlog-checkpoint notes signed with Ed25519, C2SP signed-note format),
        `payloads.jsonl` (\(withPayloads ? "payloads still stored, with their salts" : "empty: exported without payloads")).

        To check it: `agentry audit verify-bundle <this directory> --verifier-key '<key>'`, or by hand:
        1. Each record's hash is SHA-256(0x00 ‖ leaf bytes) (RFC 6962 §2.1); build the Merkle tree of
           the records in index order (interior nodes SHA-256(0x01 ‖ left ‖ right)).
        2. Open every checkpoint with the verifier key; its size must not exceed the number of records
           and its root must equal the root of the first `size` records.
        3. Each leaf is `agentry-audit/v1` text, one `key value` per line in a fixed order; `payload`
           lines name a commitment SHA-256("agentry-audit-payload/v1\\n" ‖ salt ‖ payload). A payload
           missing here must have been erased by a later `payload.erased` record naming it.
        Exit codes of verify-bundle: 0 verified, 10 signature, 11 consistency, 12 truncation,
        13 record mismatch, 14 payload mismatch.
        """
    }
}
