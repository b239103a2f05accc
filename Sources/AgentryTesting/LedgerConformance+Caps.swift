import AgentryLedger
import AgentryStore
import Foundation

extension LedgerConformance {
    static let expectedCapsChangeOnce = ConformanceCase(
        "cap changes that expect the cap they read: of racing writers on two instances, one wins"
    ) { backend in
        try await withTwoInstances(backend) { ledgers, _ in
            let key = CapKey(scope: try LedgerScope(.user, id: "usr_race"), window: .day)
            // Twenty writers read "no cap" and each tries to set its own.
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for writer in 1...20 {
                    group.addTask {
                        try await ledgers[writer % 2].setCaps([
                            CapChange(key: key, limit: Microdollars(Int64(writer)), expecting: .limit(nil))
                        ])
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            try await ensure(wins == 1, "exactly one of twenty expecting writers changes the cap, not \(wins)")
            guard let winner = try await ledgers[0].store.caps()[key] else {
                throw ExpectationFailure("the winning writer's cap is stored")
            }
            // A stale expectation changes nothing; a current one applies; an unconditional one always does.
            try await ensure(
                !(try await ledgers[1].setCaps([CapChange(key: key, limit: nil, expecting: .limit(nil))])),
                "a change expecting no cap leaves the set cap")
            try await ensure(
                try await ledgers[1].setCaps([CapChange(key: key, limit: Microdollars(99), expecting: .limit(winner))]),
                "a change expecting the current cap applies")
            try await ensure(try await ledgers[0].store.caps()[key] == Microdollars(99), "the applied change is stored")
            try await ensure(
                try await ledgers[0].setCaps([CapChange(key: key, limit: nil)]), "an unconditional change applies")
            try await ensure(try await ledgers[1].store.caps()[key] == nil, "and removes the cap")
        }
    }
}
