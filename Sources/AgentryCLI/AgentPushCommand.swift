import AgentryRegistry
import ArgumentParser
import Foundation

extension AgentCommand {
    /// `agentry agent push [DIR]`: zips a directory and uploads it as a draft in your Sandbox.
    struct Push: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upload a directory (agent.yaml and its files) as a draft version in your Sandbox.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The agent's directory.") var directory = "."

        /// Folders that are never part of a package: version control, caches, local environments
        /// (and `.env` files, which hold local secrets).
        static let skipped: Set<String> = [
            ".git", ".hg", ".svn", "__pycache__", ".venv", "venv", "node_modules", ".DS_Store",
        ]

        func run() async throws {
            let bytes = try Self.zip(directory: directory)
            let answer = try await client.client().send(
                .POST, "/api/v1/agents", body: bytes, contentType: "application/zip", timeout: .seconds(120))
            guard let version = try client.object(answer) else { return }
            let verb = answer.status == 201 ? "Pushed" : "Replaced the draft of"
            print(
                "\(verb) \(version["agent"] ?? "?") \(version["version"] ?? "?") (\(version["state"] ?? "?"), "
                    + "\(bytes.count) bytes, sha256 \(version["package_sha256"] ?? "?")).")
        }

        /// The package of `directory`: every regular file under it but the skipped folders; a link
        /// or special file is an error here rather than a refusal by the server.
        static func zip(directory: String) throws -> [UInt8] {
            let root = URL(fileURLWithPath: directory).standardizedFileURL
            guard FileManager.default.fileExists(atPath: root.appendingPathComponent("agent.yaml").path) else {
                throw CLIError("\(root.path) has no agent.yaml; create one with 'agentry agent init'")
            }
            var writer = ZipWriter()
            var total = 0
            for path in try files(under: root, relative: "") {
                let data = try Data(contentsOf: root.appendingPathComponent(path))
                total += data.count
                guard total <= RegistryLimits.unpackedBytesMax else {
                    throw CLIError("\(root.path) holds more than \(RegistryLimits.unpackedBytesMax) bytes of files")
                }
                writer.add(ZipWriter.Entry(path: path, bytes: Array(data)))
            }
            return writer.bytes()
        }

        private static func files(under root: URL, relative: String) throws -> [String] {
            let folder = relative.isEmpty ? root : root.appendingPathComponent(relative)
            var found: [String] = []
            for name in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
            where !skipped.contains(name) {
                // Local secrets never leave the builder's machine.
                if name == ".env" || name.hasPrefix(".env.") { continue }
                let path = relative.isEmpty ? name : relative + "/" + name
                let attributes = try FileManager.default.attributesOfItem(
                    atPath: root.appendingPathComponent(path).path)
                switch attributes[.type] as? FileAttributeType {
                case .typeDirectory?: found += try files(under: root, relative: path)
                case .typeRegular?: found.append(path)
                default: throw CLIError("\(path) is a link or special file; packages hold regular files only")
                }
            }
            return found
        }
    }
}
