import Crypto

/// An agent package as uploaded: a zip with `agent.yaml` at its root and, for code agents, the
/// files they run. Read whole and checked before anything is stored.
public struct AgentPackage: Sendable {
    /// One file of the package with its SHA-256, for the delta between versions.
    public struct File: Equatable, Sendable, Codable {
        public let path: String
        public let size: Int
        /// Lowercase hex.
        public let sha256: String

        /// A file entry.
        public init(path: String, size: Int, sha256: String) {
            self.path = path
            self.size = size
            self.sha256 = sha256
        }
    }

    /// The manifest read from `agent.yaml`.
    public let manifest: AgentManifest
    /// The manifest's text, as uploaded.
    public let manifestText: String
    /// Every file, `agent.yaml` included, by path.
    public let files: [File]
    /// SHA-256 of the zip as uploaded, lowercase hex: what was reviewed is what runs.
    public let sha256: String
    /// The zip as uploaded.
    public let bytes: [UInt8]

    /// The package in `bytes`, or why it is refused.
    public init(zip bytes: [UInt8]) throws(PackageError) {
        guard bytes.count <= RegistryLimits.packageBytesMax else {
            throw .tooLarge("\(bytes.count) bytes; at most \(RegistryLimits.packageBytesMax)")
        }
        let files = try ZipReader.files(
            of: bytes, entriesMax: RegistryLimits.packageEntriesMax, unpackedBytesMax: RegistryLimits.unpackedBytesMax)
        guard let manifestFile = files.first(where: { $0.path == "agent.yaml" }) else {
            throw .manifest("the package has no agent.yaml at its root")
        }
        guard let text = String(validating: manifestFile.bytes, as: UTF8.self) else {
            throw .manifest("agent.yaml is not UTF-8 text")
        }
        let manifest: AgentManifest
        do {
            manifest = try AgentManifest(yaml: text)
        } catch {
            throw .manifest("agent.yaml: " + error.problems.map(\.description).joined(separator: "; "))
        }
        if case .code(_, let entrypoint) = manifest.kind, !files.contains(where: { $0.path == entrypoint }) {
            throw .manifest("agent.yaml: code.entrypoint: \(entrypoint) is not in the package")
        }
        self.manifest = manifest
        self.manifestText = text
        self.files = files.map {
            File(path: $0.path, size: $0.bytes.count, sha256: Self.hex(SHA256.hash(data: $0.bytes)))
        }
        .sorted { $0.path < $1.path }
        self.sha256 = Self.hex(SHA256.hash(data: bytes))
        self.bytes = bytes
    }

    private static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}
