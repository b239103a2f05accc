import AgentryIdentity
import AgentryStore
import Foundation

/// Concurrency cases of the identity contract: parallel writers, racing duplicates, racing instances.
enum IdentityConcurrency {
    static let cases: [ConformanceCase] = [parallelWriters, racingDuplicates, racingBootstrap]

    static let parallelWriters = ConformanceCase("40 parallel writers all land") { backend in
        try await StoreFixture.withStore(backend) { backend in
            let store = backend.identity
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<40 {
                    group.addTask { try await store.insertUser(try IdentityFixtures.user("w\(index)@example.com")) }
                }
                try await group.waitForAll()
            }
            try await ensure(try await store.users(after: nil, limit: 100).count == 40, "parallel inserts were lost")
        }
    }

    static let racingDuplicates = ConformanceCase("16 racing inserts of one email: exactly one wins") { backend in
        try await StoreFixture.withStore(backend) { backend in
            let store = backend.identity
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<16 {
                    group.addTask {
                        do {
                            try await store.insertUser(try IdentityFixtures.user("race@example.com"))
                            return true
                        } catch IdentityError.emailTaken {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            try await ensure(
                outcomes.filter { $0 }.count == 1, "\(outcomes.filter { $0 }.count) inserts won, expected 1")
            try await ensure(try await store.users(after: nil, limit: 100).count == 1, "duplicates were stored")
        }
    }

    static let racingBootstrap = ConformanceCase("4 instances bootstrapping at once create one admin") { backend in
        try await StoreFixture.withLocation(backend) { location in
            let first = try await StoreFixture.open(location)
            _ = try await first.migrate()
            var handles: [any StoreBackend] = [first]
            for _ in 1..<4 { handles.append(try await StoreFixture.open(location)) }
            let stores = handles
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for (index, store) in stores.enumerated() {
                    group.addTask {
                        let admin = try IdentityFixtures.user("admin\(index)@example.com", roles: [.admin])
                        return try await store.identity.bootstrapAdmin(
                            user: admin, token: IdentityFixtures.token(for: admin.id).record)
                    }
                }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            let users = try await first.identity.users(after: nil, limit: 10).count
            for store in stores { try await store.close() }
            try await ensure(
                wins == 1 && users == 1, "\(wins) bootstraps won and \(users) users exist; expected 1 and 1")
        }
    }
}
