import AgentryAudit
import AgentryServer
import AgentryStore
import AgentryTesting
import Foundation
import Synchronization
import Testing

/// SIGKILL in the middle of a stream of appends must lose nothing that was acknowledged.
@Suite("Crash safety", .serialized)
struct CrashTests {
    @Test(arguments: TestBackend.allCases)
    func acknowledgedAppendsSurviveSIGKILL(_ backend: TestBackend) async throws {
        try await StoreFixture.withLocation(backend) { location in
            let files = try TemporaryDirectory(prefix: "agentry-crash")
            defer { files.remove() }
            let dataArguments = location.serveArguments(filesIn: files.path)
            let arguments = ["serve", "--port", "0"] + dataArguments
            var token: String?
            var acknowledged: [String] = []
            for round in 0..<5 {
                let server = try RunningProcess(arguments)
                defer { server.stop() }
                let (url, printed) = try await ServeProcessTests.started(server)
                token = token ?? printed
                let secret = try #require(token)
                acknowledged += try await Self.hammer(url: url, token: secret, round: round, killing: server)
            }
            let store = try await StoreFixture.open(location)
            // What any instance's drainer does within seconds: append the entries of changes that
            // committed while their delivery was cut off by the kill.
            let drained = try await AuditOutboxDrainer(
                store: store.audit, log: AuditLog(store: store.audit, clock: { 0 }), grace: 0,
                clock: { Int64(Date().timeIntervalSince1970 * 1000) + 1 }
            ).drain()
            #expect(try await store.audit.outbox(olderThan: Int64.max, limit: 10).isEmpty, "the outbox is not empty")
            let recorded = try await store.audit.records(
                matching: AuditFilter(kind: .teamCreated), from: 0, count: 100_000)
            let verifier = try AuditSigningKey.read(dataArguments[1] + "/audit-signing.key").verifier
            let report = try await AuditVerifier.verify(store: store.audit, verifier: verifier)
            let teams = try await store.identity.teams(after: nil, limit: 1_000_000)
            try await store.close()
            let recordedSubjects = Set(try recorded.map { try $0.event().subject ?? "" })
            #expect(acknowledged.count > 20, "the appender barely ran: \(acknowledged.count) acknowledgements")
            for id in acknowledged {
                #expect(recordedSubjects.contains(id), "acknowledged team \(id) has no audit record")
                #expect(teams.contains { $0.id == id }, "acknowledged team \(id) is gone")
            }
            #expect(report.size >= Int64(acknowledged.count))
            // Every team that exists, acknowledged or not, is recorded exactly once.
            #expect(
                recorded.count == teams.count, "\(recorded.count) records for \(teams.count) teams (\(drained) drained)"
            )
            #expect(recordedSubjects == Set(teams.map(\.id)), "teams and their records differ")
        }
    }

    /// Creates teams from 8 concurrent clients until the server is SIGKILLed after about a second;
    /// returns the ids of the teams whose creation was acknowledged.
    static func hammer(url: String, token: String, round: Int, killing server: RunningProcess) async throws -> [String]
    {
        let state = ClientReplies<Bool>()
        await withTaskGroup(of: Void.self) { group in
            for client in 0..<8 {
                group.addTask {
                    var sequence = 0
                    while !state.stopped {
                        sequence += 1
                        let body = #"{"name":"r\#(round)-c\#(client)-\#(sequence)","department":"Crash"}"#
                        guard let reply = try? await HTTP.send("POST", "\(url)/api/v1/teams", token: token, json: body),
                            reply.status == 201,
                            let object = try? JSONSerialization.jsonObject(with: Data(reply.body.utf8))
                                as? [String: Any],
                            let id = object["id"] as? String
                        else { continue }
                        state.record(id, true)
                    }
                }
            }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(1200))
                server.signal(SIGKILL)
                state.stop()
            }
        }
        _ = try await server.wait(timeout: .seconds(10))
        return Array(state.replies.keys)
    }
}

/// What concurrent clients were told, by id, and the flag that stops them: shared by the crash
/// tests' clients and the task that kills the server.
final class ClientReplies<Value: Sendable>: Sendable {
    private let storage = Mutex<(replies: [String: Value], stopped: Bool)>(([:], false))

    /// Whether the clients should stop.
    var stopped: Bool { storage.withLock { $0.stopped } }
    /// Every acknowledged reply so far.
    var replies: [String: Value] { storage.withLock { $0.replies } }
    /// Records what the server acknowledged for `id`.
    func record(_ id: String, _ value: Value) { storage.withLock { $0.replies[id] = value } }
    /// Tells the clients to stop.
    func stop() { storage.withLock { $0.stopped = true } }
}
