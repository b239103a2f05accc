import AgentryAudit
import AgentryServer
import AgentryStore
import ArgumentParser
import Foundation
import Logging

/// `agentry audit …`: the signing key, full verification of the log, and offline-checkable receipts.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Verify the tamper-evident audit log and manage its signing key.",
        discussion: """
            Exit codes of verify and prove: 0 verified; 10 a signature does not verify; 11 a checkpoint
            does not match the records; 12 the log was truncated; 13 a record was modified, deleted,
            reordered or inserted; 14 a payload was changed or removed without an erasure event; 1 any
            other error.
            """,
        subcommands: [Keygen.self, Verify.self, Prove.self, Export.self, VerifyBundle.self])

    /// Prints the report of a successful verification.
    static func describe(_ report: VerificationReport) -> String {
        "Verified \(report.size) records (root \(report.root.hex)), \(report.checkpoints) checkpoints, "
            + "\(report.payloads) payloads; \(report.erased.count) payloads erased"
            + report.erased.map { " (\($0.commitment.hex.prefix(12))… by record \($0.erasedBy))" }.joined()
    }

    /// Runs a verification and turns a failure into its exit code, with one line on standard error.
    static func exitOnFailure(_ body: () async throws -> VerificationReport) async throws -> VerificationReport {
        do {
            return try await body()
        } catch let failure as VerificationFailure {
            FileHandle.standardError.write(Data("verification failed: \(failure)\n".utf8))
            throw ExitCode(failure.exitCode)
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an offline bundle (records, checkpoints, payloads, verifier key, README) for auditors.")
        @OptionGroup var options: ServerOptions
        @Option(help: "A new directory for the bundle.") var out: String
        @Flag(help: "Leave payloads (inputs, outputs) out of the bundle.") var withoutPayloads = false

        func run() async throws {
            let configuration = try options.resolve()
            let verifier = try Verify.verifier(nil, configuration: configuration)
            let store = try await Verify.open(configuration)
            let size: Int64
            do {
                size = try await AuditBundleFiles.export(
                    store: store.audit, verifierKey: verifier.verifierKey, to: out, withPayloads: !withoutPayloads)
                try? await store.close()
            } catch let error as AuditKeyError {
                try? await store.close()
                throw CLIError(error.description)
            }
            print(
                "Wrote \(size) records to \(out). Verify with: agentry audit verify-bundle \(out) --verifier-key '\(verifier.verifierKey)'"
            )
        }
    }

    struct VerifyBundle: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify-bundle", abstract: "Verify an offline bundle with nothing but the verifier key.")
        @Argument(help: "The bundle directory.") var bundle: String
        @Option(help: "The log's verifier key you trust (default: the bundle's own verifier-key.txt, which is said).")
        var verifierKey: String?
        @Flag(help: "The bundle was exported without payloads: skip payload checks.") var withoutPayloads = false

        func run() async throws {
            let loaded: AuditBundle
            do { loaded = try AuditBundleFiles.load(bundle) } catch let error as AuditKeyError {
                throw CLIError(error.description)
            }
            let key = try verifierKey ?? String(contentsOfFile: bundle + "/verifier-key.txt", encoding: .utf8)
            let verifier: NoteVerifier
            do { verifier = try NoteVerifier(verifierKey: key.trimmingCharacters(in: .whitespacesAndNewlines)) } catch {
                throw CLIError("the verifier key is malformed: \(error)")
            }
            let report = try await AuditCommand.exitOnFailure {
                try await AuditVerifier.verify(store: loaded, verifier: verifier, checkPayloads: !withoutPayloads)
            }
            print(AuditCommand.describe(report))
            if verifierKey == nil {
                print("Note: checked with the bundle's own verifier-key.txt; pass --verifier-key to trust your copy.")
            }
        }
    }

    struct Keygen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an audit signing key file (mode 0600) and print its verifier key for auditors.")
        @Option(help: "The log's origin, which is the key's name.") var origin = "agentry.local/audit"
        @Option(help: "Where to write the private key; an existing file is never overwritten.") var out: String

        func run() async throws {
            let (signer, privateKey) = try NoteSigner.generate(name: origin)
            do {
                try AuditSigningKey.save(privateKey, to: out)
            } catch let error as AuditKeyError {
                throw CLIError(error.description)
            }
            print("Wrote the audit signing key to \(out). Verifier key for auditors:\n\n    \(signer.verifierKey)\n")
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Re-hash every record, rebuild the tree and check every checkpoint and payload (reads the store directly)."
        )
        @OptionGroup var options: ServerOptions
        @Option(help: "The log's verifier key (default: derived from the signing key file).") var verifierKey: String?
        @Option(help: "A checkpoint file kept outside the database (default: the configured checkpoint file).")
        var trustedCheckpoints: String?
        @Flag(
            help:
                "Re-hash only the records after the newest trusted checkpoint (after checking the tree still holds it)."
        )
        var incremental = false

        func run() async throws {
            let configuration = try options.resolve()
            let verifier = try Self.verifier(verifierKey, configuration: configuration)
            let store = try await Self.open(configuration)
            let outcome: Result<VerificationReport, any Error>
            do {
                let trusted = try Self.trusted(
                    trustedCheckpoints ?? configuration.checkpointFilePath, verifier: verifier)
                if incremental {
                    guard let trusted else {
                        throw CLIError("--incremental needs a trusted checkpoint; none is in the checkpoint file yet")
                    }
                    outcome = .success(
                        try await AuditVerifier.verify(store: store.audit, verifier: verifier, since: trusted))
                } else {
                    outcome = .success(
                        try await AuditVerifier.verify(store: store.audit, verifier: verifier, trusted: trusted))
                }
            } catch {
                outcome = .failure(error)
            }
            try? await store.close()
            let report = try await AuditCommand.exitOnFailure { try outcome.get() }
            print(AuditCommand.describe(report))
        }

        static func verifier(_ key: String?, configuration: ServerConfiguration) throws -> NoteVerifier {
            do {
                if let key { return try NoteVerifier(verifierKey: key) }
                return try AuditSigningKey.read(configuration.signingKeyPath).verifier
            } catch let error as AuditKeyError {
                throw CLIError("\(error.description); or pass --verifier-key")
            } catch {
                throw CLIError("the verifier key is malformed: \(error)")
            }
        }

        static func open(_ configuration: ServerConfiguration) async throws -> any StoreBackend {
            let logger = Logger(label: "agentry") { _ in SwiftLogNoOpLogHandler() }
            do {
                return try await ServerRunner.openStore(configuration, logger: logger)
            } catch let error as StoreError {
                throw CLIError(error.message)
            }
        }

        static func trusted(_ path: String, verifier: NoteVerifier) throws -> Checkpoint? {
            guard let note = try CheckpointFile(path: path).latestNote() else { return nil }
            guard let checkpoint = try? Checkpoint.open(note, verifier: verifier) else {
                throw VerificationFailure.signature(checkpointSize: -1)
            }
            return checkpoint
        }
    }

    struct Prove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch a record's receipt from the server and check its inclusion proof and signature locally.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Record index.") var index: Int64
        @Option(help: "The log's verifier key you trust (without it, the server's own key is used and said so).")
        var verifierKey: String?

        func run() async throws {
            let answer = try await client.client().send(.GET, "/api/v1/audit/records/\(index)")
            if client.json { print(String(decoding: answer.body, as: UTF8.self)) }
            let receipt = try JSONDecoder().decode(Receipt.self, from: answer.body)
            let verifier = try NoteVerifier(verifierKey: verifierKey ?? receipt.checkpoint.verifierKey)
            guard let checkpoint = try? Checkpoint.open(receipt.checkpoint.note, verifier: verifier) else {
                FileHandle.standardError.write(Data("the checkpoint is not signed by \(verifier.verifierKey)\n".utf8))
                throw ExitCode(VerificationFailure.signature(checkpointSize: receipt.checkpoint.size).exitCode)
            }
            let proof = receipt.inclusionProof.compactMap(LogHash.init(base64:))
            guard proof.count == receipt.inclusionProof.count else {
                throw CLIError("the receipt's inclusion proof holds a value that is not base64 of 32 bytes")
            }
            do {
                try MerkleTree.checkInclusion(
                    proof: proof, size: checkpoint.size, root: checkpoint.root, index: index,
                    recordHash: MerkleTree.recordHash(Array(receipt.record.leaf.utf8)))
            } catch {
                FileHandle.standardError.write(
                    Data("the inclusion proof does not lead to the checkpoint's root\n".utf8))
                throw ExitCode(VerificationFailure.leafMismatch(index: index, reason: "").exitCode)
            }
            if !client.json {
                print(
                    "Record \(index) is in the log of \(checkpoint.size) records signed by \(verifier.name) (root \(checkpoint.root.hex))."
                )
                if verifierKey == nil {
                    print("Note: checked with the server's own key; pass --verifier-key to trust your copy.")
                }
                print(receipt.record.leaf, terminator: "")
            }
        }

        struct Receipt: Decodable {
            struct Record: Decodable { let leaf: String }
            struct CheckpointBody: Decodable {
                let size: Int64
                let note: String
                let verifierKey: String

                enum CodingKeys: String, CodingKey {
                    case size, note
                    case verifierKey = "verifier_key"
                }
            }

            let record: Record
            let inclusionProof: [String]
            let checkpoint: CheckpointBody

            enum CodingKeys: String, CodingKey {
                case record, checkpoint
                case inclusionProof = "inclusion_proof"
            }
        }
    }
}
