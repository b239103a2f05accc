import AgentryIdentity
import Foundation

/// One run of an agent version, as stored.
public struct StoredRun: Sendable, Equatable {
    /// Where a run is in its life; the last five are final.
    public enum Status: String, Sendable, CaseIterable {
        case queued, running, succeeded, failed, cancelled
        case capExceeded = "cap_exceeded"
        case timedOut = "timed_out"

        /// Whether the run is over.
        public var isFinal: Bool { self != .queued && self != .running }
    }

    /// Where the version runs: a builder's draft in their Sandbox, or a published Catalog agent.
    public enum Zone: String, Sendable, CaseIterable {
        case sandbox, catalog
    }

    public let id: String
    public let agentID: String
    public let agentName: String
    public let version: String
    /// Who started the run: every call it makes is attributed to them and to the run.
    public let invokerID: String
    public let teamID: String?
    public let zone: Zone
    public var status: Status
    /// The inputs as a JSON object.
    public let inputs: String
    /// The output as JSON, once the run succeeded.
    public var output: String?
    /// Why the run did not succeed, in a sentence.
    public var error: String?
    /// What the run's calls were charged, µ$.
    public var costMicrodollars: Int64
    /// The run token's id (never its secret).
    public var tokenID: String?
    /// Who asked to cancel the run, if anyone did.
    public var cancelRequestedBy: String?
    public let createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?

    /// A run as stored.
    public init(
        id: String, agentID: String, agentName: String, version: String, invokerID: String, teamID: String?,
        zone: Zone, status: Status, inputs: String, output: String? = nil, error: String? = nil,
        costMicrodollars: Int64 = 0, tokenID: String? = nil, cancelRequestedBy: String? = nil, createdAt: Date,
        startedAt: Date? = nil, finishedAt: Date? = nil
    ) {
        self.id = id
        self.agentID = agentID
        self.agentName = agentName
        self.version = version
        self.invokerID = invokerID
        self.teamID = teamID
        self.zone = zone
        self.status = status
        self.inputs = inputs
        self.output = output
        self.error = error
        self.costMicrodollars = costMicrodollars
        self.tokenID = tokenID
        self.cancelRequestedBy = cancelRequestedBy
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}

/// One event of a run (a status change, a step, a call, a line of log), in order.
public struct RunEvent: Sendable, Equatable {
    public let runID: String
    /// 1 for the run's first event, then one more for each.
    public let sequence: Int64
    /// `status`, `step`, `model.call`, `tool.call`, `log` or `output`.
    public let kind: String
    /// The event's JSON object.
    public let data: String
    public let at: Date

    /// An event as stored.
    public init(runID: String, sequence: Int64, kind: String, data: String, at: Date) {
        self.runID = runID
        self.sequence = sequence
        self.kind = kind
        self.data = data
        self.at = at
    }
}

/// Which runs a listing returns.
public struct RunFilter: Sendable, Equatable {
    /// Only runs this user started or runs of agents this user owns.
    public var visibleTo: String?
    public var agentID: String?
    public var invokerID: String?
    public var status: StoredRun.Status?

    /// A filter; every condition is optional.
    public init(
        visibleTo: String? = nil, agentID: String? = nil, invokerID: String? = nil, status: StoredRun.Status? = nil
    ) {
        self.visibleTo = visibleTo
        self.agentID = agentID
        self.invokerID = invokerID
        self.status = status
    }
}

/// Runs and their events. A run's status only moves forward: queued → running → a final status
/// (or queued → a final status); every final transition is compare-and-set, so a run ends once.
public protocol RunStore: Sendable {
    /// Stores a new run with the audit messages that record it.
    func createRun(_ run: StoredRun, recording messages: [ChangeMessage]) async throws
    func run(id: String) async throws -> StoredRun?
    /// The run a run token was minted for.
    func run(tokenID: String) async throws -> StoredRun?
    /// Runs newest first (by creation), after the one with id `after` (a cursor).
    func runs(_ filter: RunFilter, after: String?, limit: Int) async throws -> [StoredRun]
    /// queued → running with its token and the audit messages of its start; false (nothing
    /// written) when the run is no longer queued.
    func startRun(id: String, tokenID: String, at time: Date, recording messages: [ChangeMessage]) async throws -> Bool
    /// Ends a queued or running run; false (nothing written) when it had already ended.
    func finishRun(
        id: String, status: StoredRun.Status, output: String?, error: String?, costMicrodollars: Int64, at time: Date,
        recording messages: [ChangeMessage]
    ) async throws -> Bool
    /// Marks a queued or running run as asked to stop; false when it had already ended.
    func requestCancel(id: String, by userID: String, recording messages: [ChangeMessage]) async throws -> Bool
    /// Appends an event; returns its sequence number.
    @discardableResult
    func appendRunEvent(runID: String, kind: String, data: String, at time: Date) async throws -> Int64
    /// The run's events after `sequence`, oldest first.
    func runEvents(runID: String, after sequence: Int64, limit: Int) async throws -> [RunEvent]
    /// How much the agent's Catalog version was run: runs by status, runners, the last run.
    func usage(agentID: String) async throws -> RunUsage
}

/// How much an agent is used in the Catalog zone.
public struct RunUsage: Sendable, Equatable {
    /// Catalog runs by status.
    public var runs: [StoredRun.Status: Int64]
    /// Distinct users who started one.
    public var runners: Int64
    public var lastRunAt: Date?

    /// Usage as counted.
    public init(runs: [StoredRun.Status: Int64] = [:], runners: Int64 = 0, lastRunAt: Date? = nil) {
        self.runs = runs
        self.runners = runners
        self.lastRunAt = lastRunAt
    }

    /// The SQL both backends count with (`?` is the agent's id, twice).
    public static let sql = """
        SELECT status, count(*), CAST(0 AS BIGINT), max(created_at) FROM runs WHERE agent_id = ? AND zone = 'catalog' GROUP BY status
        UNION ALL
        SELECT '', CAST(0 AS BIGINT), count(DISTINCT invoker_id), CAST(0 AS BIGINT) FROM runs WHERE agent_id = ? AND zone = 'catalog'
        """

    /// Usage from rows of `sql`: (status, count, runners, last created).
    public init(rows: [(String, Int64, Int64, Int64)]) {
        self.init()
        for (status, count, runners, last) in rows {
            if let status = StoredRun.Status(rawValue: status) {
                runs[status] = count
                lastRunAt = max(lastRunAt ?? .distantPast, StoredTime.date(last))
            } else {
                self.runners = runners
            }
        }
    }
}

/// The columns both backends read a run from, and how their values become a `StoredRun`.
public enum RunRows {
    /// The `SELECT` list, in the order `run(_:)` expects.
    public static let columns = """
        id, agent_id, agent_name, version, invoker_id, team_id, zone, status, inputs, output, error,
        cost_microdollars, token_id, cancel_requested_by, created_at, started_at, finished_at
        """

    /// A run from its 17 column values, read as text or integers (nil for NULL).
    public static func run(text: (Int) -> String?, integer: (Int) -> Int64?) throws -> StoredRun {
        guard let zone = text(6).flatMap(StoredRun.Zone.init(rawValue:)),
            let status = text(7).flatMap(StoredRun.Status.init(rawValue:))
        else { throw StoreError.corrupt("a run has an unknown zone or status") }
        return StoredRun(
            id: text(0) ?? "", agentID: text(1) ?? "", agentName: text(2) ?? "", version: text(3) ?? "",
            invokerID: text(4) ?? "", teamID: text(5), zone: zone, status: status, inputs: text(8) ?? "{}",
            output: text(9), error: text(10), costMicrodollars: integer(11) ?? 0, tokenID: text(12),
            cancelRequestedBy: text(13), createdAt: StoredTime.date(integer(14) ?? 0),
            startedAt: integer(15).map(StoredTime.date), finishedAt: integer(16).map(StoredTime.date))
    }

    /// The WHERE conditions (with `?` placeholders) and arguments of `filter` and the cursor.
    public static func conditions(_ filter: RunFilter, after: String?) -> (String, [String]) {
        var conditions = ["1 = 1"]
        var arguments: [String] = []
        if let user = filter.visibleTo {
            conditions.append("(invoker_id = ? OR agent_id IN (SELECT id FROM agents WHERE owner_id = ?))")
            arguments += [user, user]
        }
        for (column, value) in [("agent_id", filter.agentID), ("invoker_id", filter.invokerID)] {
            if let value {
                conditions.append("\(column) = ?")
                arguments.append(value)
            }
        }
        if let status = filter.status {
            conditions.append("status = ?")
            arguments.append(status.rawValue)
        }
        if let after {
            conditions.append("(created_at, id) < (SELECT created_at, id FROM runs WHERE id = ?)")
            arguments.append(after)
        }
        return (conditions.joined(separator: " AND "), arguments)
    }
}
