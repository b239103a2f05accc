import AgentryRegistry
import ArgumentParser
import Foundation

/// `agentry agent …`: build an agent in your Sandbox.
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent", abstract: "Create and check agent packages (format in docs/agents.md).",
        subcommands: [
            Init.self, Validate.self, Push.self, Submit.self, Suspend.self, Resume.self, Deprecate.self,
            Transfer.self, Search.self,
        ])

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a working example agent into a directory (it must not hold an agent.yaml yet).")
        @Argument(help: "The directory; created if missing.") var directory = "."
        @Option(help: "The agent's name (a lowercase slug); default: from the directory's name.") var name: String?
        @Option(help: "declarative (prompt, model, tools) or code (a Python entrypoint).") var kind = "declarative"
        @Option(help: "The owner's email, written into the manifest.") var owner: String?

        func run() async throws {
            guard ["declarative", "code"].contains(kind) else {
                throw CLIError("--kind must be declarative or code, not '\(kind)'")
            }
            let url = URL(fileURLWithPath: directory).standardizedFileURL
            let name = self.name ?? Self.slug(url.lastPathComponent)
            let files = AgentTemplate.files(name: name, kind: kind, owner: owner)
            do {
                _ = try AgentManifest(yaml: files[0].text)
            } catch {
                throw CLIError("the agent cannot be called '\(name)': \(error.description); choose one with --name")
            }
            let manager = FileManager.default
            for file in files where manager.fileExists(atPath: url.appendingPathComponent(file.path).path) {
                throw CLIError("\(url.appendingPathComponent(file.path).path) exists already; nothing was written")
            }
            do {
                try manager.createDirectory(at: url, withIntermediateDirectories: true)
                for file in files {
                    try Data(file.text.utf8).write(
                        to: url.appendingPathComponent(file.path), options: .withoutOverwriting)
                }
            } catch {
                throw CLIError("cannot write into \(url.path): \(error.localizedDescription)")
            }
            print("Wrote a \(kind) agent '\(name)' in \(url.path): \(files.map(\.path).joined(separator: ", ")).")
            print("Check it with 'agentry agent validate \(directory)'.")
        }

        /// A directory name as an agent name: lowercase, runs of other characters as one '-'.
        static func slug(_ text: String) -> String {
            var slug = ""
            for scalar in text.lowercased().unicodeScalars {
                if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                    slug.unicodeScalars.append(scalar)
                } else if !slug.isEmpty, !slug.hasSuffix("-") {
                    slug += "-"
                }
            }
            while slug.hasSuffix("-") { slug.removeLast() }
            return slug.count >= 3 ? String(slug.prefix(64)) : "my-agent"
        }
    }

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check an agent's manifest (and, for code agents, its entrypoint); print every problem.")
        @Argument(help: "A directory holding agent.yaml, or the manifest file itself.") var path = "."

        func run() async throws {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw CLIError("\(path) does not exist")
            }
            let file = isDirectory.boolValue ? (path as NSString).appendingPathComponent("agent.yaml") : path
            guard let yaml = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw CLIError("cannot read \(file) as UTF-8 text")
            }
            let manifest: AgentManifest
            do {
                manifest = try AgentManifest(yaml: yaml)
            } catch {
                throw CLIError(
                    "\(file) has \(error.problems.count) problem\(error.problems.count == 1 ? "" : "s"):\n"
                        + error.problems.map { "  \($0.path): \($0.reason)" }.joined(separator: "\n"))
            }
            if case .code(_, let entrypoint) = manifest.kind {
                let folder = (file as NSString).deletingLastPathComponent
                let target = (folder.isEmpty ? "." : folder as NSString).appendingPathComponent(entrypoint)
                guard FileManager.default.fileExists(atPath: target) else {
                    throw CLIError(
                        "\(file) has 1 problem:\n  code.entrypoint: \(entrypoint) is not in \(folder.isEmpty ? "." : folder)"
                    )
                }
            }
            print("\(file) is valid: \(manifest.name) \(manifest.version) (\(manifest.kind.name) agent).")
        }
    }
}
