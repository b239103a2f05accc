import AgentryIdentity

import struct Foundation.Date

/// Storage of caps, accounts and reservations. `execute` locks the reservations and accounts of its
/// operations (always in `AccountKey` order, so transactions never deadlock), lets `LedgerRules`
/// decide each operation in order, and writes the decisions, all in one transaction.
///
/// Contract, checked by the conformance suite on every backend:
/// - `reserve` changes all the request's accounts or none; a cap is never exceeded by a reserve,
///   however many processes reserve at once;
/// - a reservation resolves exactly once; repeats answer `exists`;
/// - balances never go negative (also a CHECK constraint).
public protocol LedgerStore: Sendable {
    /// Sets each cap of `changes` to its limit, or removes it when nil, all in one transaction
    /// with `messages` (the changes' audit entries) written into the outbox. When a change's
    /// expectation does not hold, nothing is written and the answer is false.
    @discardableResult
    func setCaps(_ changes: [CapChange], at time: Date, recording messages: [ChangeMessage]) async throws -> Bool
    /// Every cap set, by key.
    func caps() async throws -> [CapKey: Microdollars]
    /// Applies `operations` in order in one transaction (each sees the effect of those before it);
    /// a refused operation changes nothing and does not stop the others. One result per operation.
    func execute(_ operations: [LedgerOperation], at time: Date) async throws -> [Result<LedgerOutcome, LedgerError>]
    /// The reservation with this id, if any.
    func reservation(id: String) async throws -> Reservation?
    /// Ids of up to `limit` pending reservations whose expiry is at or before `time`.
    func overdue(at time: Date, limit: Int) async throws -> [String]
    /// Every account's stored balance.
    func balances() async throws -> [AccountKey: Balance]
    /// Every account's balance recomputed from the reservations that hold it.
    func recomputedBalances() async throws -> [AccountKey: Balance]
    /// Spend per account for the dashboards: the accounts of `window` whose window starts in
    /// `since..<until` (milliseconds), of one scope or of every scope of one kind, by window start
    /// then scope; at most `limit`. `settled` is spent, `reserved` still in flight.
    func spend(_ query: SpendQuery) async throws -> [(AccountKey, Balance)]
    /// Settled and in-flight totals of the reservations made in `since..<until` (milliseconds), grouped by one
    /// attribution (model, provider, zone, …) and, with `per`, by the day or month each was made in
    /// (in the ledger's zone); reservations without the attribution or the window are grouped under nil.
    func spend(by attribution: SpendDimension, per window: CapWindow?, since: Int64, until: Int64) async throws
        -> [SpendTotal]
    /// Both of the above from one snapshot, so a reserve committed in between is not drift.
    func balancesAndRecomputed() async throws -> (stored: [AccountKey: Balance], recomputed: [AccountKey: Balance])
    /// The time zone the ledger's days and months are counted in: the stored one, or, when none is
    /// stored yet, `identifier`, stored now (so the first instance decides for all).
    func timeZone(claiming identifier: String, at time: Date) async throws -> String
    /// Stores `identifier` as the ledger's time zone, with `messages` written into the outbox.
    func setTimeZone(_ identifier: String, at time: Date, recording messages: [ChangeMessage]) async throws
    /// How many batches the ledger may hand this store at once: more than one lets a store overlap
    /// one batch's round trips or commit with the next one's work.
    var batchesInFlight: Int { get }
}

extension LedgerStore {
    /// Two: the next batch waits at the store while one commits.
    public var batchesInFlight: Int { 2 }

    /// Reserves `request` on `accounts` in a transaction of its own.
    public func reserve(_ request: ReservationRequest, accounts: [AccountKey], at time: Date) async throws
        -> LedgerOutcome
    {
        try await only(execute([.reserve(request, accounts: accounts)], at: time))
    }

    /// Resolves reservation `id` in a transaction of its own.
    public func resolve(id: String, by resolution: Resolution, at time: Date) async throws -> LedgerOutcome {
        try await only(execute([.resolve(id: id, resolution)], at: time))
    }

    private func only(_ results: [Result<LedgerOutcome, LedgerError>]) throws -> LedgerOutcome {
        precondition(results.count == 1, "one result per operation")
        return try results[0].get()
    }
}

/// The ledger: validation, calendar windows and a clock over a `LedgerStore`.
public struct Ledger: Sendable {
    /// Where caps, accounts and reservations live.
    public let store: any LedgerStore
    /// The calendar whose days and months are windows.
    public let calendar: LedgerCalendar
    /// The current time.
    public let now: @Sendable () -> Date
    /// Shares transactions among concurrent callers.
    private let batcher: LedgerBatcher

    /// A ledger over `store`.
    public init(
        store: any LedgerStore, calendar: LedgerCalendar = LedgerCalendar(), clock: @escaping @Sendable () -> Date
    ) {
        self.store = store
        self.calendar = calendar
        let now: @Sendable () -> Date = {
            let milliseconds = (clock().timeIntervalSince1970 * 1000).rounded(.down)
            return Date(timeIntervalSince1970: milliseconds / 1000)
        }
        self.now = now
        self.batcher = LedgerBatcher(store: store, clock: now)
    }

    /// Holds `request.amount` on every account of its scopes, or throws `capExceeded` and changes nothing.
    public func reserve(_ request: ReservationRequest) async throws -> LedgerOutcome {
        let time = now()
        try LedgerRules.validate(request, at: time)
        return try await batcher.submit(.reserve(request, accounts: calendar.accounts(for: request.scopes, at: time)))
    }

    /// Settles reservation `id` at `actual` (≤ reserved); the rest goes back to the caps.
    public func settle(id: String, actual: Microdollars) async throws -> LedgerOutcome {
        try LedgerRules.validateID(id)
        guard actual >= .zero else { throw LedgerError.invalidAmount(reason: "a settlement cannot be negative") }
        return try await batcher.submit(.resolve(id: id, .settle(actual: actual)))
    }

    /// Releases reservation `id` without cost.
    public func release(id: String) async throws -> LedgerOutcome {
        try LedgerRules.validateID(id)
        return try await batcher.submit(.resolve(id: id, .release))
    }

    /// Expires up to `limit` overdue reservations; returns how many this call expired. Safe on
    /// several instances at once: each reservation expires once, the others see `exists`.
    @discardableResult
    public func expireOverdue(limit: Int = 1000) async throws -> Int {
        var expired = 0
        let time = now()
        for id in try await store.overdue(at: time, limit: limit) {
            if case .done = try await store.resolve(id: id, by: .expire, at: time) { expired += 1 }
        }
        return expired
    }

    /// Sets or removes the cap on `scope` for `window`; `messages` record the change atomically with it.
    public func setCap(
        scope: LedgerScope, window: CapWindow, limit: Microdollars?, recording messages: [ChangeMessage] = []
    ) async throws {
        try await setCaps([CapChange(key: CapKey(scope: scope, window: window), limit: limit)], recording: messages)
    }

    /// Sets or removes several caps at once: all of them or, if any is refused, none. False
    /// (nothing written) when a change's expectation of the cap it finds does not hold.
    @discardableResult
    public func setCaps(_ changes: [CapChange], recording messages: [ChangeMessage] = []) async throws -> Bool {
        guard !changes.isEmpty else { throw LedgerError.invalidRequest(reason: "no cap to change") }
        guard Set(changes.map(\.key)).count == changes.count else {
            throw LedgerError.invalidRequest(reason: "each cap is changed once")
        }
        for change in changes {
            if let limit = change.limit {
                // The largest cap stays below 2^53 µ$, so `limit_micros` is exact in every JSON parser.
                guard limit >= .zero, limit <= LedgerRules.amountMax else {
                    throw LedgerError.invalidAmount(reason: "a cap is between $0 and \(LedgerRules.amountMax)")
                }
            }
            let (scope, window) = (change.key.scope, change.key.window)
            guard scope.windows.contains(window) else {
                throw LedgerError.invalidRequest(
                    reason:
                        "\(scope) has \(scope.windows.map(\.rawValue).joined(separator: " and ")) windows, not \(window.rawValue)"
                )
            }
        }
        return try await store.setCaps(changes, at: now(), recording: messages)
    }

    /// Accounts whose stored balance differs from the one recomputed from reservations: empty when sound.
    public func drift() async throws -> [AccountKey: (stored: Balance, recomputed: Balance)] {
        let (stored, recomputed) = try await store.balancesAndRecomputed()
        var drift: [AccountKey: (stored: Balance, recomputed: Balance)] = [:]
        for key in Set(stored.keys).union(recomputed.keys) {
            let (have, want) = (stored[key] ?? Balance(), recomputed[key] ?? Balance())
            if have != want { drift[key] = (have, want) }
        }
        return drift
    }
}

/// Group commit for the ledger: operations from concurrent callers are applied in one store
/// transaction (at most `batchMax`), and each caller gets its own outcome once the batch is durable.
/// The guarantee does not depend on the batching: a batch decides exactly as its operations would
/// one transaction each, in order.
///
/// Up to the store's `batchesInFlight` batches are in its hands at once, so its writer finds the
/// next batch waiting when a commit ends. Each is its own transaction over committed state (the store
/// serialises them), so no decision ever rests on a batch that might still fail.
actor LedgerBatcher {
    /// The most operations one transaction carries.
    static let batchMax = 512

    private let store: any LedgerStore
    private let clock: @Sendable () -> Date
    private var pending: [(LedgerOperation, CheckedContinuation<LedgerOutcome, any Error>)] = []
    private var inFlight = 0

    init(store: any LedgerStore, clock: @escaping @Sendable () -> Date) {
        self.store = store
        self.clock = clock
    }

    /// Applies `operation` in the next batch; returns its outcome or throws its refusal.
    func submit(_ operation: LedgerOperation) async throws -> LedgerOutcome {
        try await withCheckedThrowingContinuation { continuation in
            pending.append((operation, continuation))
            startBatches()
        }
    }

    /// Hands queued operations to the store in batches while fewer than `batchesInFlight` are in flight.
    private func startBatches() {
        while inFlight < store.batchesInFlight, !pending.isEmpty {
            let batch = Array(pending.prefix(Self.batchMax))
            pending.removeFirst(batch.count)
            inFlight += 1
            Task { await self.write(batch) }
        }
    }

    /// Applies one batch, answers its callers, and starts the operations queued meanwhile.
    private func write(_ batch: [(LedgerOperation, CheckedContinuation<LedgerOutcome, any Error>)]) async {
        do {
            let results = try await store.execute(batch.map(\.0), at: clock())
            precondition(results.count == batch.count, "one result per operation")
            for (item, result) in zip(batch, results) { item.1.resume(with: result.mapError { $0 }) }
        } catch {
            for item in batch { item.1.resume(throwing: error) }
        }
        inFlight -= 1
        startBatches()
    }
}

/// Which accounts a spend listing returns.
public struct SpendQuery: Sendable, Equatable {
    /// The window kind.
    public var window: CapWindow
    /// One scope, or nil for all.
    public var scope: LedgerScope?
    /// Every scope of this kind, or nil for all (ignored when `scope` is given).
    public var kind: LedgerScope.Kind?
    /// Window starts from this millisecond on (inclusive).
    public var since: Int64
    /// Window starts before this millisecond.
    public var until: Int64
    /// The most accounts returned.
    public var limit: Int

    /// A query; defaults cover every window start.
    public init(
        window: CapWindow, scope: LedgerScope? = nil, kind: LedgerScope.Kind? = nil, since: Int64 = 0,
        until: Int64 = .max, limit: Int = 1000
    ) {
        self.window = window
        self.scope = scope
        self.kind = kind
        self.since = since
        self.until = until
        self.limit = limit
    }

    /// The `scope LIKE`-free filter both backends use: exact scope, or the `kind:` prefix (or `org`).
    public var scopeCondition: (sql: String, value: String)? {
        if let scope { return ("scope = ?", scope.description) }
        guard let kind else { return nil }
        if kind == .org { return ("scope = ?", "org") }
        let prefix = kind.rawValue + ":"
        return ("substr(scope, 1, \(prefix.utf8.count)) = ?", prefix)
    }
}

/// What reservations' spend can be grouped by: the attributions stored with each reservation.
public enum SpendDimension: String, CaseIterable, Sendable {
    case user, team, agent, run, model, provider, zone
    case agentVersion = "agent_version"

    /// The `ledger_reservations` column (a fixed name, never caller text).
    public var column: String {
        switch self {
        case .user: "user_id"
        case .agentVersion: "agent_version"
        default: rawValue
        }
    }

    /// The grouping query both backends run, per day or month start when `window` is given;
    /// arguments: since and until in milliseconds. Columns: window start, key, settled, in flight, count.
    public func totalsSQL(per window: CapWindow?) -> String {
        let start: String? =
            switch window {
            case .day: "day_start"
            case .month: "month_start"
            case .run, nil: nil
            }
        let sums = """
            CAST(SUM(CASE WHEN state = 'settled' THEN settled ELSE 0 END) AS BIGINT),
                CAST(SUM(CASE WHEN state = 'pending' THEN amount ELSE 0 END) AS BIGINT),
                CAST(COUNT(*) AS BIGINT)
            FROM ledger_reservations WHERE created_at >= ? AND created_at < ?
            """
        guard let start else {
            return """
                SELECT CAST(NULL AS BIGINT), \(column), \(sums)
                GROUP BY \(column) ORDER BY (\(column) IS NULL), \(column)
                """
        }
        return """
            SELECT \(start), \(column), \(sums)
            GROUP BY \(start), \(column) ORDER BY (\(start) IS NULL), \(start), (\(column) IS NULL), \(column)
            """
    }
}

/// One group of a spend-by-attribution listing.
public struct SpendTotal: Equatable, Sendable {
    /// Start (milliseconds) of the day or month the group's reservations were made in, when
    /// grouped per window; nil otherwise, or for reservations without such a window.
    public let windowStart: Int64?
    /// The attribution's value, nil for reservations without it.
    public let key: String?
    /// Settled spend.
    public let settled: Microdollars
    /// Held by reservations not yet resolved.
    public let inFlight: Microdollars
    /// Reservations in the group.
    public let reservations: Int64

    /// A total.
    public init(
        windowStart: Int64? = nil, key: String?, settled: Microdollars, inFlight: Microdollars, reservations: Int64
    ) {
        self.windowStart = windowStart
        self.key = key
        self.settled = settled
        self.inFlight = inFlight
        self.reservations = reservations
    }
}

/// One cap to set (a limit) or remove (nil), optionally only if the cap is still as expected
/// (compare-and-set, so two writers that read the same cap cannot both change it).
public struct CapChange: Sendable, Equatable {
    /// What the cap must be for the change to apply.
    public enum Expectation: Sendable, Equatable {
        /// Whatever it is.
        case anything
        /// Exactly this: a limit, or nil for no cap.
        case limit(Microdollars?)

        /// Whether a cap of `current` meets the expectation.
        public func holds(for current: Microdollars?) -> Bool {
            switch self {
            case .anything: true
            case .limit(let expected): expected == current
            }
        }
    }

    /// Which cap.
    public let key: CapKey
    /// The new limit, or nil to remove the cap.
    public let limit: Microdollars?
    public let expecting: Expectation

    /// A change of the cap `key` to `limit`, if it is as `expecting` says.
    public init(key: CapKey, limit: Microdollars?, expecting: Expectation = .anything) {
        self.key = key
        self.limit = limit
        self.expecting = expecting
    }
}
