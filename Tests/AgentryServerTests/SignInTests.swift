import AgentryAudit
import AgentryTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// `user.signed_in`: once per credential and quiet period, however many instances serve it.
@Suite("Sign-in events")
struct SignInTests {
    /// The sign-in records of the fixture's log as `(actor, subject)`.
    static func signIns(_ fixture: ServerFixture) async throws -> [(actor: String, subject: String?)] {
        try await fixture.store.audit.records(matching: AuditFilter(kind: .userSignedIn), from: 0, count: 100).map {
            let event = try $0.event()
            return (event.actor, event.subject)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aTokenSignsInOncePerQuietPeriodAcrossInstances(_ backend: TestBackend) async throws {
        try await ServerFixture.with(backend) { fixture in
            let now = Mutex(Date())
            let clock: @Sendable () -> Date = { now.withLock { $0 } }
            let (member, memberToken) = try await fixture.member("m@example.com")
            let adminTokenID = try #require(try await fixture.store.identity.tokens(userID: fixture.admin.id).first?.id)
            try await fixture.application(clock: clock).test(.router) { first in
                for _ in 0..<3 {
                    #expect(try await first.call(.get, "/api/v1/users/me", token: fixture.adminToken).status == .ok)
                }
                try await fixture.application(clock: clock).test(.router) { second async throws in
                    // A second instance, without the first one's memory, still records nothing new.
                    #expect(try await second.call(.get, "/api/v1/users/me", token: fixture.adminToken).status == .ok)
                    #expect(try await second.call(.get, "/api/v1/users/me", token: memberToken).status == .ok)
                }
                expectError(
                    try await first.call(
                        .get, "/api/v1/users/me", token: "agt_pat_" + String(repeating: "a", count: 52)),
                    .unauthorized, "invalid_token")
                var found = try await Self.signIns(fixture)
                #expect(found.map(\.actor) == [fixture.admin.id, member.id])
                #expect(found.first?.subject == adminTokenID)
                now.withLock { $0 += 1800 }
                _ = try await first.call(.get, "/api/v1/users/me", token: fixture.adminToken)
                #expect(try await Self.signIns(fixture).count == 2, "a sign-in was recorded within the quiet period")
                now.withLock { $0 += 1801 }
                _ = try await first.call(.get, "/api/v1/users/me", token: fixture.adminToken)
                found = try await Self.signIns(fixture)
                #expect(found.map(\.actor) == [fixture.admin.id, member.id, fixture.admin.id])
            }
            let everything = try await fixture.store.audit.records(from: 0, count: 1000)
            let text = everything.map { String(decoding: $0.leaf, as: UTF8.self) }.joined()
            #expect(!text.contains(fixture.adminToken) && !text.contains(memberToken), "a secret reached the audit log")
        }
    }

    @Test func concurrentFirstUsesRecordOneSignIn() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            try await fixture.application().test(.router) { client in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<20 {
                        group.addTask { _ = try await client.call(.get, "/api/v1/users/me", token: fixture.adminToken) }
                    }
                    try await group.waitForAll()
                }
            }
            #expect(try await Self.signIns(fixture).count == 1)
        }
    }
}
