import AgentryIdentity
import AgentryStore
import AgentryTesting
import Foundation
import Synchronization
import Testing

/// Identity rules (authentication, last admin, proxy users) over real stores of both kinds.
@Suite("IdentityService")
struct IdentityServiceTests {
    /// A clock tests can move.
    final class TestClock: Sendable {
        private let current = Mutex(IdentityFixtures.time)
        var now: Date { current.withLock { $0 } }
        func advance(_ seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
    }

    @Test(arguments: TestBackend.allCases)
    func tokensAuthenticateUntilRevokedOrExpired(_ backend: TestBackend) async throws {
        try await StoreFixture.withStore(backend) { store in
            let clock = TestClock()
            let service = IdentityService(store: store.identity, clock: { clock.now })
            let user = try await service.createUser(
                email: "ada@example.com", displayName: "Ada", teamReference: nil, roles: [])
            let lasting = try await service.issuePersonalToken(userID: user.id, name: "cli", lifetime: nil)
            let brief = try await service.issuePersonalToken(userID: user.id, name: "ci", lifetime: 3600)
            #expect(try await service.authenticate(secret: lasting.secret, accepted: [.pat]).0 == user)
            #expect(try await service.authenticate(secret: brief.secret, accepted: [.pat]).0 == user)
            clock.advance(3600)
            await #expect(throws: AuthenticationError.tokenExpired) {
                try await service.authenticate(secret: brief.secret, accepted: [.pat])
            }
            _ = try await service.revokeToken(id: lasting.record.id, by: user)
            await #expect(throws: AuthenticationError.tokenRevoked) {
                try await service.authenticate(secret: lasting.secret, accepted: [.pat])
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func garbageWrongKindAndDisabledUsersAreRefused(_ backend: TestBackend) async throws {
        try await StoreFixture.withStore(backend) { store in
            let service = IdentityService(store: store.identity)
            let user = try await service.createUser(
                email: "bo@example.com", displayName: "Bo", teamReference: nil, roles: [])
            let sandbox = IdentityFixtures.token(for: user.id, kind: .sandbox)
            try await store.identity.insertToken(sandbox.record)
            await #expect(throws: AuthenticationError.wrongTokenKind(presented: .sandbox, accepted: [.pat])) {
                try await service.authenticate(secret: sandbox.secret, accepted: [.pat])
            }
            for garbage in [
                "", "agt_pat_", "agt_pat_' OR '1'='1", "not-a-token", String(repeating: "agt_pat_a", count: 100),
            ] {
                await #expect(throws: AuthenticationError.invalidToken) {
                    try await service.authenticate(secret: garbage, accepted: [.pat])
                }
            }
            let token = try await service.issuePersonalToken(userID: user.id, name: "cli", lifetime: nil)
            let admin = try await service.createUser(
                email: "root@example.com", displayName: "Root", teamReference: nil, roles: [.admin])
            _ = try await service.updateUser(id: user.id, change: UserChange(disabled: true))
            await #expect(throws: AuthenticationError.userDisabled) {
                try await service.authenticate(secret: token.secret, accepted: [.pat])
            }
            #expect(admin.has(.admin))
            _ = try await service.updateUser(id: user.id, change: UserChange(disabled: false))
            #expect(try await service.authenticate(secret: token.secret, accepted: [.pat]).0.id == user.id)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func theLastActiveAdminCannotBeRemoved(_ backend: TestBackend) async throws {
        try await StoreFixture.withStore(backend) { store in
            let service = IdentityService(store: store.identity)
            let only = try await service.createUser(
                email: "one@example.com", displayName: "One", teamReference: nil, roles: [.admin])
            await #expect(throws: IdentityError.lastAdmin) {
                try await service.updateUser(id: only.id, change: UserChange(roles: [.member]))
            }
            await #expect(throws: IdentityError.lastAdmin) {
                try await service.updateUser(id: only.id, change: UserChange(disabled: true))
            }
            _ = try await service.createUser(
                email: "two@example.com", displayName: "Two", teamReference: nil, roles: [.admin])
            let demoted = try await service.updateUser(id: only.id, change: UserChange(roles: [.reviewer]))
            #expect(demoted.roles == [.member, .reviewer])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func proxyUsersAreProvisionedOnce(_ backend: TestBackend) async throws {
        try await StoreFixture.withStore(backend) { store in
            let service = IdentityService(store: store.identity)
            let header = "X-Forwarded-Email"
            let first = try await service.proxyUser(
                email: "New.Person@Example.com", displayName: "New Person", provision: true, header: header)
            #expect(first.email.value == "new.person@example.com")
            #expect(first.displayName == "New Person")
            #expect(first.roles == [.member])
            let again = try await service.proxyUser(
                email: "new.person@example.com", displayName: nil, provision: true, header: header)
            #expect(again == first)
            let badName = try await service.proxyUser(
                email: "odd@example.com", displayName: "bell\u{7}", provision: true, header: header)
            #expect(badName.displayName == "odd")
            await #expect(throws: AuthenticationError.unknownUser) {
                try await service.proxyUser(
                    email: "stranger@example.com", displayName: nil, provision: false, header: header)
            }
            await #expect(throws: AuthenticationError.invalidIdentityHeader(header: header)) {
                try await service.proxyUser(email: "not an email", displayName: nil, provision: true, header: header)
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func twoAdminsDemotingEachOtherAtOnceLeaveOne(_ backend: TestBackend) async throws {
        for round in 0..<3 {
            try await StoreFixture.withStore(backend) { store in
                let service = IdentityService(store: store.identity)
                let one = try await service.createUser(
                    email: "one\(round)@example.com", displayName: "One", teamReference: nil, roles: [.admin])
                let two = try await service.createUser(
                    email: "two\(round)@example.com", displayName: "Two", teamReference: nil, roles: [.admin])
                let outcomes = await withTaskGroup(of: Bool.self) { group in
                    for user in [one, two] {
                        group.addTask {
                            (try? await service.updateUser(id: user.id, change: UserChange(roles: [.member]))) != nil
                        }
                    }
                    return await group.reduce(into: [Bool]()) { $0.append($1) }
                }
                #expect(outcomes.filter { $0 }.count == 1, "round \(round): \(outcomes)")
                #expect(try await store.identity.activeAdminCount() == 1)
                let survivor = try #require(
                    try await [one, two].asyncFirst { try await store.identity.user(id: $0.id)?.has(.admin) == true })
                await #expect(throws: IdentityError.lastAdmin) {
                    try await service.updateUser(id: survivor.id, change: UserChange(disabled: true))
                }
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func invalidRequestsChangeNothing(_ backend: TestBackend) async throws {
        try await StoreFixture.withStore(backend) { store in
            let service = IdentityService(store: store.identity)
            let user = try await service.createUser(
                email: "c@example.com", displayName: "C", teamReference: nil, roles: [])
            let stranger = try await service.createUser(
                email: "d@example.com", displayName: "D", teamReference: nil, roles: [])
            await #expect(throws: IdentityError.teamNotFound("ghost-team")) {
                try await service.createUser(
                    email: "e@example.com", displayName: "E", teamReference: "ghost-team", roles: [])
            }
            for days in [0.0, -1, 1827] {
                await #expect(throws: IdentityError.self) {
                    try await service.issuePersonalToken(userID: user.id, name: "t", lifetime: days * 86_400)
                }
            }
            let token = try await service.issuePersonalToken(userID: user.id, name: "mine", lifetime: nil)
            await #expect(throws: IdentityError.tokenNotFound(token.record.id)) {
                try await service.revokeToken(id: token.record.id, by: stranger)
            }
            #expect(try await store.identity.token(id: token.record.id)?.revokedAt == nil)
            #expect(try await store.identity.users(after: nil, limit: 10).count == 2)
            #expect(try await service.bootstrapAdmin(email: "late@example.com") == nil)
        }
    }
}

extension Array where Element: Sendable {
    /// The first element for which the async predicate holds.
    func asyncFirst(_ predicate: (Element) async throws -> Bool) async rethrows -> Element? {
        for element in self where try await predicate(element) { return element }
        return nil
    }
}
