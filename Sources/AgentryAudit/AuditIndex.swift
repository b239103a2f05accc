/// One row of the filter index: the columns a filtered listing selects on, taken from a leaf.
///
/// The leaf is the only truth; the index is derived from it behind the appends (in batches, so
/// an append writes only sequential keys) and never consulted by verification.
public struct AuditIndexEntry: Sendable, Equatable {
    /// The record's index.
    public let index: Int64
    /// Event time, milliseconds since 1970.
    public let time: Int64
    /// Event kind; empty when the leaf cannot be decoded (such a record matches no kind filter).
    public let kind: String
    /// Actor id; empty when the leaf cannot be decoded.
    public let actor: String
    /// Subject, agent and run ids, when the event has them.
    public let subject: String?
    public let agent: String?
    public let run: String?

    /// The entry for `record`. A leaf that does not decode (tampering, which `verify` reports) is
    /// indexed with empty kind and actor so the indexer never stalls on it.
    public init(_ record: AuditRecord) {
        index = record.index
        if let event = try? record.event() {
            (time, kind, actor) = (event.time, event.kind.rawValue, event.actor)
            (subject, agent, run) = (event.subject, event.agent, event.run)
        } else {
            (time, kind, actor, subject, agent, run) = (0, "", "", nil, nil, nil)
        }
    }
}

extension AuditFilter {
    /// Whether `event` meets every condition of the filter.
    public func matches(_ event: AuditEvent) -> Bool {
        (kind.map { $0 == event.kind } ?? true) && (actor.map { $0 == event.actor } ?? true)
            && (subject.map { $0 == event.subject } ?? true) && (agent.map { $0 == event.agent } ?? true)
            && (run.map { $0 == event.run } ?? true) && (since.map { event.time >= $0 } ?? true)
            && (until.map { event.time < $0 } ?? true)
    }
}

extension AuditStore {
    /// Up to `count` records matching `filter` with index ≥ `start`, in index order: the indexed
    /// part from the filter index, the rest by decoding the leaves the indexer has not reached yet.
    public func records(matching filter: AuditFilter, from start: Int64, count: Int) async throws -> [AuditRecord] {
        guard count > 0 else { return [] }
        let indexed = try await indexedSize()
        var found =
            start < indexed
            ? try await indexedRecords(matching: filter, from: start, below: indexed, count: count) : []
        var cursor = max(start, indexed)
        while found.count < count {
            let page = try await records(from: cursor, count: AuditIndexer.batchMax)
            guard let last = page.last else { break }
            for record in page where found.count < count {
                if let event = try? record.event(), filter.matches(event) { found.append(record) }
            }
            cursor = last.index + 1
        }
        return found
    }
}

/// Keeps the filter index up with the log: indexes whatever was appended since its last pass, in
/// batches, and sleeps when it has caught up. Every instance may run one; the store serialises them.
public struct AuditIndexer: Sendable {
    /// The most records one index transaction covers.
    public static let batchMax = 512

    private let store: any AuditStore
    private let idle: Duration

    /// An indexer over `store` that looks for new records every `idle` once it has caught up.
    public init(store: any AuditStore, idle: Duration = .milliseconds(200)) {
        self.store = store
        self.idle = idle
    }

    /// Indexes until nothing is left; returns how many records this call indexed.
    @discardableResult
    public func catchUp() async throws -> Int {
        var total = 0
        while true {
            let done = try await store.extendIndex(limit: Self.batchMax)
            total += done
            if done < Self.batchMax { return total }
        }
    }

    /// Catches up, then sleeps `idle`, until cancelled; a failed pass is reported to `failed` and retried.
    public func run(failed: @Sendable (any Error) -> Void = { _ in }) async {
        while !Task.isCancelled {
            do { try await catchUp() } catch is CancellationError { return } catch { failed(error) }
            do { try await Task.sleep(for: idle) } catch { return }
        }
    }
}
