import AgentryGateway
import AgentryServer
import ArgumentParser

/// `agentry vault …`: the master key of the credential vault.
struct VaultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vault", abstract: "Manage the credential vault's master key.", subcommands: [Keygen.self])

    struct Keygen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a vault master key file (mode 0600); keep it outside the database and its backups.")
        @Option(help: "Where to write the key; an existing file is never overwritten.") var out: String

        func run() async throws {
            let (key, text) = VaultKey.generate()
            do {
                try DurableFile.write(Array((text + "\n").utf8), to: out, mode: .create, permissions: 0o600)
            } catch {
                throw CLIError(error.description)
            }
            print(
                "Wrote vault key \(key.id) to \(out). Keep it outside the database and its backups; without it the credentials cannot be opened."
            )
        }
    }
}
