import AgentryAudit
import AgentryLedger
import AgentryServer
import AgentryStore
import ArgumentParser
import Foundation

/// `agentry caps …`: spend caps per scope and window.
struct CapsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "caps", abstract: "Show and set spend caps (admin or finance).",
        subcommands: [List.self, Set.self, Remove.self])

    static let columns = [("SCOPE", "scope"), ("WINDOW", "window"), ("LIMIT", "limit")]

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every cap.")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            try client.show(try await client.client().send(.GET, "/api/v1/caps"), columns: CapsCommand.columns)
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set caps of a scope, e.g. 'agentry caps set team:finance --daily 50 --monthly 500'.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "org, team:<id>, user:<id>, agent:<id>, version:<agent>@<version> or run:<id>.")
        var scope: String
        @Option(help: "Cap per calendar day, in dollars.") var daily: String?
        @Option(help: "Cap per calendar month, in dollars.") var monthly: String?
        @Option(help: "Cap per run, in dollars (run scopes only).") var perRun: String?

        func validate() throws {
            guard daily != nil || monthly != nil || perRun != nil else {
                throw ValidationError("give at least one of --daily, --monthly and --per-run")
            }
            for (flag, value) in [("--daily", daily), ("--monthly", monthly), ("--per-run", perRun)] {
                if let value, Microdollars(parsing: value) == nil {
                    throw ValidationError("\(flag) must be a dollar amount such as 50 or 0.12, not '\(value)'")
                }
            }
        }

        /// One request, so the windows are set together or not at all.
        func run() async throws {
            var body: [String: String] = [:]
            for (window, value) in [("run", perRun), ("day", daily), ("month", monthly)] { body[window] = value }
            let answer = try await client.client().send(.PUT, "/api/v1/caps/\(Query.escape(scope))", json: body)
            try client.show(answer, columns: CapsCommand.columns)
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove the cap of a scope in one window.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The scope, e.g. team:finance.") var scope: String
        @Argument(help: "run, day or month.") var window: String

        func run() async throws {
            _ = try await client.client().send(
                .DELETE, "/api/v1/caps/\(Query.escape(scope))/\(Query.escape(window))")
            print("Removed the \(window) cap of \(scope).")
        }
    }
}

/// `agentry ledger …`: checks of the spend ledger, reading the store directly.
struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger", abstract: "Check the spend ledger.", subcommands: [Verify.self, TimeZoneCommand.self])

    struct TimeZoneCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "time-zone",
            abstract: "Show the time zone of spend-cap days and months, or change it (stop every instance first).")
        @OptionGroup var options: ServerOptions
        @Argument(help: "The new zone, e.g. Europe/Berlin; without it the current one is shown.")
        var zone: String?

        func validate() throws {
            guard let zone else { return }
            guard LedgerCalendar(timeZoneIdentifier: zone) != nil else {
                throw ValidationError("'\(zone)' is not a time zone name such as UTC or Europe/Berlin")
            }
            // The change is an audit record, whose subject allows letters, digits and ._:@/- only.
            guard
                zone.utf8.allSatisfy({
                    $0 < 0x80
                        && (Character(UnicodeScalar($0)).isLetter || Character(UnicodeScalar($0)).isNumber
                            || "._:@/-".utf8.contains($0))
                })
            else {
                throw ValidationError(
                    "'\(zone)' cannot be recorded in the audit log; choose a named zone such as Europe/Berlin")
            }
        }

        func run() async throws {
            let configuration = try options.resolve()
            let store = try await AuditCommand.Verify.open(configuration)
            let outcome = await Result(catching: { () async throws -> (zone: String, changed: Bool) in
                // Brings the schema up to date first, as a server start would.
                _ = try await store.migrate()
                // Reading claims the configured zone when none is stored, as a server start would.
                let stored = try await store.ledger.timeZone(
                    claiming: configuration.ledgerCalendar.zoneName, at: Date())
                guard let zone, let wanted = LedgerCalendar(timeZoneIdentifier: zone),
                    LedgerCalendar(timeZoneIdentifier: stored)?.sameZone(as: wanted) != true
                else { return (stored, false) }
                let time = Date()
                let change = try AuditOutboxMessage.make(
                    for: AuditEvent(
                        time: StoredTime.milliseconds(time), kind: .ledgerTimeZoneChanged, actor: "agentry-cli",
                        subject: zone, outcome: "set"),
                    at: time)
                try await store.ledger.setTimeZone(zone, at: time, recording: [change])
                return (zone, true)
            })
            try? await store.close()
            let (stored, changed): (String, Bool)
            do {
                (stored, changed) = try outcome.get()
            } catch let error as StoreError {
                throw CLIError(error.message)
            }
            if !changed {
                print("Spend-cap days and months are counted in \(stored).")
            } else {
                print(
                    "Spend-cap days and months are now counted in \(stored). Start every instance with "
                        + "ledger.time_zone \(stored); windows already open keep their starts.")
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute every account from its reservations and report drift (exit 20 if any).")
        @OptionGroup var options: ServerOptions

        func run() async throws {
            let configuration = try options.resolve()
            let store = try await AuditCommand.Verify.open(configuration)
            let ledger = Ledger(store: store.ledger, calendar: configuration.ledgerCalendar, clock: { Date() })
            let outcome = await Result(catching: { try await ledger.drift() })
            let accounts = await Result(catching: { try await store.ledger.balances().count })
            try? await store.close()
            let drift = try outcome.get()
            guard drift.isEmpty else {
                for (key, pair) in drift.sorted(by: { $0.key < $1.key }) {
                    FileHandle.standardError.write(
                        Data(
                            ("drift at \(key): stored reserved \(pair.stored.reserved) settled \(pair.stored.settled), "
                                + "reservations say reserved \(pair.recomputed.reserved) settled \(pair.recomputed.settled)\n")
                                .utf8))
                }
                throw ExitCode(20)
            }
            print("Verified \(try accounts.get()) accounts: each equals what its reservations say.")
        }
    }
}

extension Result where Failure == any Error {
    /// The result of an async throwing body.
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
