import AgentryLedger
import AgentryTesting
import Foundation
import Synchronization
import Testing

/// The ledger across real processes: a server SIGKILLed while it holds reservations, and two
/// servers sharing one PostgreSQL racing for the same caps.
@Suite("Ledger across processes", .serialized)
struct LedgerProcessTests {
    /// What the clients were told about each reservation before the kill.
    enum Told: Equatable, Sendable {
        case pending
        case settled(Int64)
        case released
    }

    @Test(arguments: TestBackend.allCases)
    func reservationsOfAKilledServerExpireOnceAndTheLedgerVerifies(_ backend: TestBackend) async throws {
        try await StoreFixture.withLocation(backend) { location in
            let files = try TemporaryDirectory(prefix: "agentry-ledger-crash")
            defer { files.remove() }
            let dataArguments = location.serveArguments(filesIn: files.path)
            let arguments = ["serve", "--port", "0"] + dataArguments
            let first = try RunningProcess(arguments)
            defer { first.stop() }
            let (url, printed) = try await ServeProcessTests.started(first)
            let token = try #require(printed)
            let cap = try await HTTP.send(
                "PUT", "\(url)/api/v1/caps/team:crash/day", token: token, json: #"{"limit":"1000"}"#)
            #expect(cap.status == 200, "\(cap.body)")
            let told = try await Self.spend(url: url, token: token, killing: first)
            let held = told.values.filter { $0 == .pending }.count
            #expect(told.count > 20 && held > 0, "\(told.count) reservations, \(held) left pending")

            // A new instance on the same store expires what the dead one held, once their 2 s pass.
            let second = try RunningProcess(arguments)
            defer { second.stop() }
            let (secondURL, _) = try await ServeProcessTests.started(second)
            var inFlight = -1
            for _ in 0..<60 where inFlight != 0 {
                try await Task.sleep(for: .milliseconds(500))
                let spend = try await HTTP.get(
                    "\(secondURL)/api/v1/spend?window=day&scope=team:crash", token: token)
                let items =
                    (try JSONSerialization.jsonObject(with: Data(spend.body.utf8)) as? [String: Any])?[
                        "items"] as? [[String: Any]]
                inFlight = items?.first?["in_flight_micros"] as? Int ?? -1
            }
            #expect(inFlight == 0, "the dead server's holds were never given back")
            second.signal(SIGTERM)
            _ = try await second.wait(timeout: .seconds(30))

            let verified = try await AgentryProcess.run(["ledger", "verify"] + location.serveArguments)
            #expect(verified.status == 0, "ledger verify: \(verified.stdout) \(verified.stderr)")
            let store = try await StoreFixture.open(location)
            var settledSum: Int64 = 0
            for (id, said) in told {
                let stored = try #require(
                    try await store.ledger.reservation(id: id), "\(id) was acknowledged but is gone")
                switch said {
                case .settled(let micros):
                    #expect(stored.state == .settled && stored.settled?.value == micros, "\(id): \(stored)")
                case .released: #expect(stored.state == .released, "\(id): \(stored)")
                case .pending:
                    // Held at the kill: expired, unless its settle or release committed unacknowledged.
                    #expect(stored.state != .pending, "\(id) is still pending")
                }
            }
            let all = try await store.ledger.spend(by: .model, per: nil, since: 0, until: .max)
            settledSum = all.reduce(0) { $0 + $1.settled.value }
            let day = try await store.ledger.spend(
                SpendQuery(window: .day, scope: try LedgerScope(parsing: "team:crash")))
            try await store.close()
            #expect(all.allSatisfy { $0.inFlight == .zero }, "reservations still in flight: \(all)")
            // Nothing counted twice: the account holds exactly what its reservations settled.
            #expect(day.map(\.1) == [Balance(reserved: .zero, settled: Microdollars(settledSum))], "\(day)")
            let acknowledgedSettled = told.values.reduce(Int64(0)) {
                if case .settled(let micros) = $1 { $0 + micros } else { $0 }
            }
            #expect(settledSum >= acknowledgedSettled)
        }
    }

    /// Eight clients reserve $0.01 for 2 s at a time and settle, release or keep each in turn until
    /// the server is SIGKILLed, once 60 reservations were acknowledged; returns what each
    /// acknowledged reply said.
    static func spend(url: String, token: String, killing server: RunningProcess) async throws -> [String: Told] {
        let told = ClientReplies<Told>()
        await withTaskGroup(of: Void.self) { group in
            for client in 0..<8 {
                group.addTask {
                    var sequence = 0
                    while !told.stopped {
                        sequence += 1
                        let id = "crash-\(client)-\(sequence)"
                        let body =
                            #"{"id":"\#(id)","amount":"0.01","scopes":["org","team:crash"],"ttl_seconds":2,"model":"m"}"#
                        guard
                            let made = try? await HTTP.send(
                                "POST", "\(url)/api/v1/reservations", token: token, json: body),
                            made.status == 201
                        else { continue }
                        told.record(id, .pending)
                        let (path, json, outcome): (String, String?, Told) =
                            switch sequence % 3 {
                            case 0: ("settle", #"{"actual":"0.004"}"#, .settled(4_000))
                            case 1: ("release", nil, .released)
                            default: ("", nil, .pending)
                            }
                        guard !path.isEmpty,
                            let reply = try? await HTTP.send(
                                "POST", "\(url)/api/v1/reservations/\(id)/\(path)", token: token, json: json),
                            reply.status == 200
                        else { continue }
                        told.record(id, outcome)
                    }
                }
            }
            group.addTask {
                // Kill mid-stream once enough has been acknowledged, however loaded the machine is.
                let deadline = ContinuousClock.now + .seconds(30)
                while told.replies.count < 60, ContinuousClock.now < deadline {
                    try? await Task.sleep(for: .milliseconds(20))
                }
                server.signal(SIGKILL)
                told.stop()
            }
        }
        _ = try await server.wait(timeout: .seconds(10))
        return told.replies
    }

    @Test func twoServersOnOnePostgreSQLAdmitExactlyWhatFits() async throws {
        try await StoreFixture.withLocation(.postgres) { location in
            let files = try TemporaryDirectory(prefix: "agentry-ledger-race")
            defer { files.remove() }
            let arguments = ["serve", "--port", "0"] + location.serveArguments(filesIn: files.path)
            let first = try RunningProcess(arguments)
            defer { first.stop() }
            let (firstURL, printed) = try await ServeProcessTests.started(first)
            let token = try #require(printed)
            let second = try RunningProcess(arguments)
            defer { second.stop() }
            let (secondURL, _) = try await ServeProcessTests.started(second)
            // Two runs of one agent of one team: the agent's $0.60 binds before the team's $1.00.
            for (path, limit) in [("team:race/day", "1.00"), ("agent:bot/day", "0.60")] {
                let reply = try await HTTP.send(
                    "PUT", "\(firstURL)/api/v1/caps/\(path)", token: token, json: #"{"limit":"\#(limit)"}"#)
                #expect(reply.status == 200, "\(reply.body)")
            }
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for attempt in 0..<80 {
                    group.addTask {
                        let (url, run) = attempt.isMultiple(of: 2) ? (firstURL, "r1") : (secondURL, "r2")
                        let body =
                            #"{"id":"race-\#(attempt)","amount":"0.03","scopes":["team:race","agent:bot","run:\#(run)"]}"#
                        return try await HTTP.send("POST", "\(url)/api/v1/reservations", token: token, json: body)
                            .status
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 201 }.count == 20, "admitted: \(statuses.filter { $0 == 201 }.count)")
            #expect(statuses.filter { $0 == 429 }.count == 60, "statuses: \(Set(statuses))")
            let spend = try await HTTP.get("\(secondURL)/api/v1/spend?window=day&scope=agent:bot", token: token)
            #expect(spend.body.contains(#""in_flight_micros":600000"#), "\(spend.body)")
            for server in [first, second] { server.signal(SIGTERM) }
            for server in [first, second] { _ = try await server.wait(timeout: .seconds(30)) }
            let verified = try await AgentryProcess.run(["ledger", "verify"] + location.serveArguments)
            #expect(verified.status == 0, "ledger verify: \(verified.stdout) \(verified.stderr)")
        }
    }
}
