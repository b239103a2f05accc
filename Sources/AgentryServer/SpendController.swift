import AgentryIdentity
import AgentryLedger
import Foundation
import Hummingbird

/// `GET /api/v1/spend`: spend per scope and window for dashboards, settled and in flight apart.
struct SpendController: Sendable {
    let ledger: Ledger

    func register(on api: APIRouter) {
        api.on(.get, "spend", list)
        api.on(.get, "spend/by/{dimension}", totals)
    }

    /// Totals of the reservations made in `since..<until`, grouped by one attribution and, with
    /// `per=day` or `per=month`, by the day or month (in the ledger's zone) each was made in.
    @Sendable func totals(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        try context.caller().require(CapsController.readers, to: "reading spend")
        let text = try context.parameters.require("dimension")
        guard let dimension = SpendDimension(rawValue: text) else {
            throw APIError.invalidQuery(
                "dimension", "must be one of \(SpendDimension.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let parameters = request.uri.queryParameters
        let since = try QueryInteger.parse(
            parameters["since"].map(String.init), name: "since", default: 0, range: 0...Int64.max)
        let until = try QueryInteger.parse(
            parameters["until"].map(String.init), name: "until", default: .max, range: 0...Int64.max)
        var window: CapWindow?
        if let per = parameters["per"].map(String.init) {
            guard let parsed = CapWindow(rawValue: per), parsed != .run else {
                throw APIError.invalidQuery("per", "must be day or month")
            }
            window = parsed
        }
        let totals = try await ledger.store.spend(by: dimension, per: window, since: since, until: until)
        return try JSONResponse.make(
            SpendTotalList(
                items: totals.map {
                    SpendTotalView(
                        windowStart: $0.windowStart.map { Date(timeIntervalSince1970: Double($0) / 1000) },
                        key: $0.key, settled: $0.settled.description, settledMicros: $0.settled.value,
                        inFlight: $0.inFlight.description, inFlightMicros: $0.inFlight.value,
                        reservations: $0.reservations)
                }))
    }

    @Sendable func list(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        try context.caller().require(CapsController.readers, to: "reading spend")
        let parameters = request.uri.queryParameters
        guard let text = parameters["window"].map(String.init), let window = CapWindow(rawValue: text) else {
            throw APIError.invalidQuery("window", "is required: run, day or month")
        }
        var query = SpendQuery(window: window)
        if let scope = parameters["scope"].map(String.init) { query.scope = try LedgerScope(parsing: scope) }
        if let kind = parameters["kind"].map(String.init) {
            guard let parsed = LedgerScope.Kind(rawValue: kind) else {
                throw APIError.invalidQuery(
                    "kind", "must be one of \(LedgerScope.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            query.kind = parsed
        }
        query.since = try QueryInteger.parse(
            parameters["since"].map(String.init), name: "since", default: 0, range: 0...Int64.max)
        query.until = try QueryInteger.parse(
            parameters["until"].map(String.init), name: "until", default: .max, range: 0...Int64.max)
        query.limit = Int(
            try QueryInteger.parse(parameters["limit"].map(String.init), name: "limit", default: 100, range: 1...1000))
        let rows = try await ledger.store.spend(query)
        return try JSONResponse.make(SpendList(items: rows.map { SpendView(key: $0.0, balance: $0.1) }))
    }
}

/// One account's spend as the API shows it.
struct SpendView: Encodable, Sendable {
    let scope: String
    let window: String
    /// When the window starts; absent for a run's single window.
    let windowStart: Date?
    let settled: String
    let settledMicros: Int64
    /// Reserved by calls not yet settled, released or expired.
    let inFlight: String
    let inFlightMicros: Int64

    init(key: AccountKey, balance: Balance) {
        scope = key.scope.description
        window = key.window.rawValue
        windowStart = key.window == .run ? nil : Date(timeIntervalSince1970: Double(key.windowStart) / 1000)
        settled = balance.settled.description
        settledMicros = balance.settled.value
        inFlight = balance.reserved.description
        inFlightMicros = balance.reserved.value
    }
}

/// A spend listing.
struct SpendList: Encodable, Sendable {
    let items: [SpendView]
}

/// One group of spend by attribution.
struct SpendTotalView: Encodable, Sendable {
    /// Start of the day or month with `per`; absent otherwise or for reservations without one.
    let windowStart: Date?
    /// The attribution's value; absent for reservations without it.
    let key: String?
    let settled: String
    let settledMicros: Int64
    let inFlight: String
    let inFlightMicros: Int64
    let reservations: Int64
}

/// A spend-by-attribution listing.
struct SpendTotalList: Encodable, Sendable {
    let items: [SpendTotalView]
}
