import AgentryAudit
import Foundation

/// Why the audit signing key cannot be used; the server refuses to start.
public struct AuditKeyError: Error, CustomStringConvertible {
    /// What is wrong and what to do.
    public let description: String
}

/// Loads (or, on a fresh log with the default path, creates) the key that signs audit checkpoints.
public enum AuditSigningKey {
    /// The signer for `configuration`, checked against the log's newest stored checkpoint.
    /// `created` receives the verifier key when a new key file was written.
    public static func load(
        _ configuration: ServerConfiguration, store: any AuditStore, created: (String) -> Void
    ) async throws -> NoteSigner {
        let path = configuration.signingKeyPath
        let newest = try await store.latestCheckpoint()
        guard FileManager.default.fileExists(atPath: path) else {
            guard configuration.auditSigningKeyFile == nil, newest == nil else {
                throw AuditKeyError(
                    description: newest == nil
                        ? "the audit signing key file \(path) does not exist; create it with 'agentry audit keygen --out \(path)'"
                        : "the audit signing key file \(path) is missing, but the log has signed checkpoints; restore the key that signed them"
                )
            }
            let (signer, privateKey) = try NoteSigner.generate(name: configuration.auditOrigin)
            try save(privateKey, to: path)
            created(signer.verifierKey)
            return signer
        }
        let signer = try read(path)
        if let newest, (try? Checkpoint.open(newest.note, verifier: signer.verifier)) == nil {
            throw AuditKeyError(
                description:
                    "the audit signing key in \(path) (\(signer.verifierKey)) did not sign the log's checkpoints; restore the right key"
            )
        }
        return signer
    }

    /// Parses a private key file.
    public static func read(_ path: String) throws -> NoteSigner {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw AuditKeyError(description: "cannot read the audit signing key file \(path)")
        }
        do {
            return try NoteSigner(privateKey: text.trimmingCharacters(in: .whitespacesAndNewlines))
        } catch {
            throw AuditKeyError(
                description: "\(path) is not an audit signing key (\(error)); create one with 'agentry audit keygen'")
        }
    }

    /// Writes `privateKey` to a new file readable only by its owner; refuses to overwrite.
    public static func save(_ privateKey: String, to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        do {
            try DurableFile.write(Array((privateKey + "\n").utf8), to: path, mode: .create, permissions: 0o600)
        } catch {
            throw AuditKeyError(description: error.description)
        }
    }
}
