import ArgumentParser

/// The `agentry` executable: runs the server, and talks to a running server over its HTTP API.
@main
struct AgentryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agentry",
        abstract: "Agentry: the internal AI agent registry with a governed model gateway.",
        discussion: """
            'agentry serve' runs the server. The other commands talk to a running server:
            sign in once with 'agentry login --server URL --token TOKEN'.
            """,
        subcommands: [
            ServeCommand.self, MigrateCommand.self, LoginCommand.self, UsersCommand.self, TeamsCommand.self,
            TokensCommand.self, AuditCommand.self, CapsCommand.self, LedgerCommand.self, VaultCommand.self,
            CredentialsCommand.self, CatalogCommand.self, SandboxCommand.self, AgentCommand.self, ReviewCommand.self,
            ToolsCommand.self, RunCommand.self, RunsCommand.self,
        ]
    )
}
