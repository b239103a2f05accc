import AgentryIdentity
import AgentryServer
import AgentryStore
import ArgumentParser
import Foundation
import Logging

/// `agentry serve`: runs the server on the embedded SQLite store or PostgreSQL.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the Agentry server.",
        discussion: """
            With no settings, Agentry stores everything in ./agentry-data/agentry.sqlite and listens on
            127.0.0.1:8080. Each setting can come from agentry.yaml, an AGENTRY_* environment variable or a
            flag; flags override the environment, which overrides the file. On the very first start the
            server creates an admin user and prints its token once. Logs are JSON lines on standard error.
            SIGTERM or SIGINT stops the server gracefully.
            """
    )

    @OptionGroup var options: ServerOptions

    func run() async throws {
        let configuration = try options.resolve()
        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level, sink: StandardErrorSink()) }
        let logger = Logger(label: "agentry")
        do {
            // Written unbuffered: the one-time admin token must reach a redirected stdout even if the process is killed.
            try await ServerRunner.serve(configuration, logger: logger) { line in
                FileHandle.standardOutput.write(Data((line + "\n").utf8))
            }
        } catch let error as StoreError {
            throw CLIError(error.message)
        } catch let error as IdentityError {
            throw CLIError(error.message)
        } catch let error as ConfigurationError {
            throw CLIError("invalid configuration: \(error.description)")
        } catch let error as ListenError {
            throw CLIError(error.description)
        }
    }
}

/// `agentry migrate`: applies pending schema migrations and exits.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending database migrations (serve also does this at start)."
    )

    @OptionGroup var options: ServerOptions

    func run() async throws {
        let configuration = try options.resolve()
        var logger = Logger(label: "agentry") { label in JSONLogHandler(label: label, sink: StandardErrorSink()) }
        logger.logLevel = configuration.logLevel
        do {
            let applied = try await ServerRunner.migrate(configuration, logger: logger)
            print(
                applied.isEmpty
                    ? "The database is up to date."
                    : "Applied migrations: \(applied.map(String.init).joined(separator: ", ")).")
        } catch let error as StoreError {
            throw CLIError(error.message)
        }
    }
}
