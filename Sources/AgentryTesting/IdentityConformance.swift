import AgentryIdentity
import AgentryStore
import Foundation

/// The `IdentityStore` contract as executable cases; every backend must pass every case.
public enum IdentityConformance {
    /// All cases, in a stable order.
    public static let cases: [ConformanceCase] =
        [
            teamsRoundTrip, duplicateTeamName, usersRoundTrip, duplicateEmail, updatesOfMissingRows, hostileStrings,
            paging, tokensLifecycle, bootstrapOnlyOnce, activeAdmins,
        ] + IdentityConcurrency.cases

    static let teamsRoundTrip = ConformanceCase("teams round-trip and update") { backend in
        try await StoreFixture.withStore(backend) { backend in
            let store = backend.identity
            var team = IdentityFixtures.team("finance")
            try await store.insertTeam(team)
            try await ensure(try await store.team(id: team.id) == team, "team by id differs from what was inserted")
            try await ensure(try await store.team(name: "finance") == team, "team by name differs")
            team.name = "finance-ops"
            team.department = "Finance & Procurement"
            try await store.updateTeam(team)
            try await ensure(try await store.team(id: team.id) == team, "updated team differs")
            try await ensure(try await store.team(name: "finance") == nil, "old name still resolves")
        }
    }

    static let duplicateTeamName = ConformanceCase("duplicate team names are refused") { backend in
        try await StoreFixture.withStore(backend) { backend in
            let store = backend.identity
            try await store.insertTeam(IdentityFixtures.team("sales"))
            let error = try await expectThrows { try await store.insertTeam(IdentityFixtures.team("sales")) }
            try await ensure(error as? IdentityError == .teamNameTaken("sales"), "expected teamNameTaken, got \(error)")
            var other = IdentityFixtures.team("marketing")
            try await store.insertTeam(other)
            other.name = "sales"
            let renamed = try await expectThrows { try await store.updateTeam(other) }
            try await ensure(
                renamed as? IdentityError == .teamNameTaken("sales"), "rename onto a taken name: \(renamed)")
            try await ensure(
                try await store.teams(after: nil, limit: 10).count == 2, "a refused write changed the table")
        }
    }

    static let usersRoundTrip = ConformanceCase("users round-trip with roles, team and disabled state") { backend in
        try await StoreFixture.withStore(backend) { backend in
            let store = backend.identity
            let team = IdentityFixtures.team("finance")
            try await store.insertTeam(team)
            var user = try IdentityFixtures.user("ada@example.com", teamID: team.id, roles: [.reviewer, .finance])
            try await store.insertUser(user)
            try await ensure(try await store.user(id: user.id) == user, "user by id differs")
            try await ensure(try await store.user(email: user.email) == user, "user by email differs")
            user.roles = [.member, .admin]
            user.teamID = nil
            user.disabledAt = IdentityFixtures.time.addingTimeInterval(60)
            try await store.updateUser(user)
            try await ensure(try await store.user(id: user.id) == user, "updated user differs")
        }
    }

    static let duplicateEmail = ConformanceCase("duplicate emails are refused") { backend in
        try await StoreFixture.withStore(backend) { backend in
            let store = backend.identity
            try await store.insertUser(try IdentityFixtures.user("dup@example.com"))
            let error = try await expectThrows {
                try await store.insertUser(try IdentityFixtures.user("dup@example.com"))
            }
            try await ensure(
                error as? IdentityError == .emailTaken("dup@example.com"), "expected emailTaken, got \(error)")
            try await ensure(try await store.users(after: nil, limit: 10).count == 1, "a refused insert left a row")
        }
    }

    static let updatesOfMissingRows = ConformanceCase("updating missing rows reports not found") { backend in
        try await StoreFixture.withStore(backend) { backend in
            let store = backend.identity
            let team = IdentityFixtures.team("ghosts")
            let teamError = try await expectThrows { try await store.updateTeam(team) }
            try await ensure(teamError as? IdentityError == .teamNotFound(team.id), "missing team: \(teamError)")
            let user = try IdentityFixtures.user("ghost@example.com")
            let userError = try await expectThrows { try await store.updateUser(user) }
            try await ensure(userError as? IdentityError == .userNotFound(user.id), "missing user: \(userError)")
            try await ensure(
                try await store.revokeToken(id: "tok_missing", at: IdentityFixtures.time) == nil, "revoked a ghost")
        }
    }

    static let hostileStrings = ConformanceCase("SQL metacharacters and Unicode are stored byte for byte") { backend in
        try await StoreFixture.withStore(backend) { backend in
            let store = backend.identity
            for (index, text) in IdentityFixtures.hostileStrings.enumerated() {
                let team = IdentityFixtures.team("team-\(index)", department: text)
                try await store.insertTeam(team)
                let user = try IdentityFixtures.user("user\(index)@example.com", name: text)
                try await store.insertUser(user)
                try await ensure(try await store.team(id: team.id)?.department == text, "department changed: \(text)")
                try await ensure(
                    try await store.user(id: user.id)?.displayName == text, "display name changed: \(text)")
                try await ensure(try await store.team(name: text) == nil, "a hostile name matched a team")
            }
            try await ensure(
                try await store.users(after: nil, limit: 100).count == IdentityFixtures.hostileStrings.count,
                "rows were lost or multiplied")
        }
    }

    static let paging = ConformanceCase("listings page by id without gaps or repeats") { backend in
        try await StoreFixture.withStore(backend) { backend in
            let store = backend.identity
            var inserted: [String] = []
            for index in 0..<7 {
                let team = IdentityFixtures.team("team-\(index)")
                try await store.insertTeam(team)
                inserted.append(team.id)
            }
            var seen: [String] = []
            var after: String?
            repeat {
                let page = try await store.teams(after: after, limit: 3)
                seen += page.map(\.id)
                after = page.count == 3 ? page.last?.id : nil
            } while after != nil
            try await ensure(seen == inserted.sorted(), "pages \(seen) differ from ids in order \(inserted.sorted())")
        }
    }

    static let tokensLifecycle = ConformanceCase("tokens are found by hash, listed, and revoked once") { backend in
        try await StoreFixture.withStore(backend) { backend in
            let store = backend.identity
            let user = try IdentityFixtures.user("tok@example.com")
            try await store.insertUser(user)
            let issued = IdentityFixtures.token(for: user.id, expiresAt: IdentityFixtures.time.addingTimeInterval(3600))
            try await store.insertToken(issued.record)
            try await ensure(
                try await store.token(secretHash: TokenHash.of(issued.secret)) == issued.record, "token by hash differs"
            )
            try await ensure(try await store.token(id: issued.record.id) == issued.record, "token by id differs")
            let joined = try await store.tokenWithUser(secretHash: TokenHash.of(issued.secret))
            try await ensure(joined?.0 == issued.record && joined?.1 == user, "token with user differs")
            try await ensure(
                try await store.tokenWithUser(secretHash: TokenHash.of("agt_pat_x")) == nil, "garbage joined")
            try await ensure(try await store.tokens(userID: user.id) == [issued.record], "token listing differs")
            let first = IdentityFixtures.time.addingTimeInterval(10)
            let revoked = try await store.revokeToken(id: issued.record.id, at: first)
            try await ensure(revoked?.revokedAt == first, "revocation time not stored")
            let again = try await store.revokeToken(id: issued.record.id, at: first.addingTimeInterval(50))
            try await ensure(again?.revokedAt == first, "a second revocation moved the revocation time")
            try await ensure(
                try await store.token(secretHash: TokenHash.of("agt_pat_nothing")) == nil, "garbage matched")
        }
    }

    static let bootstrapOnlyOnce = ConformanceCase("bootstrap admin happens on an empty store only") { backend in
        try await StoreFixture.withStore(backend) { backend in
            let store = backend.identity
            let admin = try IdentityFixtures.user("admin@example.com", roles: [.admin])
            try await ensure(
                try await store.bootstrapAdmin(user: admin, token: IdentityFixtures.token(for: admin.id).record),
                "bootstrap on an empty store did nothing")
            let second = try IdentityFixtures.user("second@example.com", roles: [.admin])
            try await ensure(
                !(try await store.bootstrapAdmin(user: second, token: IdentityFixtures.token(for: second.id).record)),
                "bootstrap ran twice")
            try await ensure(try await store.user(email: second.email) == nil, "the second bootstrap left a user")
        }
    }

    static let activeAdmins = ConformanceCase("active admins are counted without disabled ones") { backend in
        try await StoreFixture.withStore(backend) { backend in
            let store = backend.identity
            try await store.insertUser(try IdentityFixtures.user("a@example.com", roles: [.admin]))
            var second = try IdentityFixtures.user("b@example.com", roles: [.admin])
            try await store.insertUser(second)
            try await store.insertUser(try IdentityFixtures.user("c@example.com", roles: [.auditor]))
            try await ensure(try await store.activeAdminCount() == 2, "expected two admins")
            second.disabledAt = IdentityFixtures.time
            try await store.updateUser(second)
            try await ensure(try await store.activeAdminCount() == 1, "a disabled admin still counts")
        }
    }
}
