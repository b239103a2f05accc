import AgentryServer
import Foundation

/// The server URL and token `agentry login` saved, in the user's config directory with mode 0600.
struct Credentials: Codable {
    var server: String
    var token: String

    /// `$XDG_CONFIG_HOME/agentry/credentials.json`, or `~/.config/agentry/credentials.json`.
    static var path: String {
        let environment = ProcessInfo.processInfo.environment
        let base =
            environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.config"
        return base + "/agentry/credentials.json"
    }

    /// Writes the file so only its owner can read it: the directory 0700, the file 0600 from creation on.
    func save() throws {
        let path = Self.path
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let data = try JSONEncoder().encode(self)
            try DurableFile.write(Array(data), to: path, mode: .replace, permissions: 0o600)
        } catch let error as DurableFileError {
            throw CLIError(error.description)
        } catch {
            throw CLIError("cannot save credentials in \(directory): \(error.localizedDescription)")
        }
    }

    /// The saved credentials, overridden by AGENTRY_SERVER / AGENTRY_TOKEN and the command's own flags.
    static func load(server: String?, token: String?) throws -> Credentials {
        let environment = ProcessInfo.processInfo.environment
        let saved = (try? Data(contentsOf: URL(fileURLWithPath: path))).flatMap {
            try? JSONDecoder().decode(Credentials.self, from: $0)
        }
        guard let server = server ?? environment["AGENTRY_SERVER"] ?? saved?.server,
            let token = token ?? environment["AGENTRY_TOKEN"] ?? saved?.token
        else {
            throw CLIError(
                "not signed in: run 'agentry login --server URL --token TOKEN' (or set AGENTRY_SERVER and AGENTRY_TOKEN)"
            )
        }
        return Credentials(server: server, token: token)
    }
}
