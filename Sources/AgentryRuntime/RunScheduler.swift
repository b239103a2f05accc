/// How many runs may execute at once, overall, per agent and per user, and how many may wait.
public struct RunConcurrency: Sendable, Equatable {
    public var overall: Int
    public var perAgent: Int
    public var perUser: Int
    /// Runs waiting for a slot beyond this are refused (`run_queue_full`).
    public var queued: Int

    /// Limits; each at least 1 (the queue may be 0).
    public init(overall: Int = 16, perAgent: Int = 8, perUser: Int = 4, queued: Int = 1000) {
        precondition(overall >= 1 && perAgent >= 1 && perUser >= 1 && queued >= 0, "concurrency limits are positive")
        self.overall = overall
        self.perAgent = perAgent
        self.perUser = perUser
        self.queued = queued
    }
}

/// Why a run could not be queued.
public struct RunQueueFull: Error, CustomStringConvertible {
    public let queued: Int

    /// The queue held `queued` runs.
    public init(queued: Int) { self.queued = queued }
    /// A sentence for people.
    public var description: String { "\(queued) runs are already waiting; try again later" }
}

/// Admits runs under `RunConcurrency`: first come, first served among those whose agent and
/// user have room, so one busy agent or user never blocks the others. A run waits in a queue
/// rather than failing; a waiting run that is cancelled leaves the queue.
public actor RunScheduler {
    /// A held place: `slot` numbers the places from 0 (code agents run as a user per slot).
    public struct Admission: Sendable {
        public let slot: Int
        let ticket: Int
    }

    private struct Waiter {
        let ticket: Int
        let agent: String
        let user: String
        let continuation: CheckedContinuation<Admission, any Error>
    }

    public nonisolated let limits: RunConcurrency
    private var running: [Int: (agent: String, user: String, slot: Int)] = [:]
    private var waiting: [Waiter] = []
    private var freeSlots: [Int]
    private var nextTicket = 0

    /// A scheduler with `limits`.
    public init(limits: RunConcurrency) {
        self.limits = limits
        self.freeSlots = Array((0..<limits.overall).reversed())
    }

    /// How many runs execute and wait now.
    public var counts: (running: Int, waiting: Int) { (running.count, waiting.count) }

    /// Waits for a place for a run of `agent` by `user`; throws `RunQueueFull` when the queue is
    /// full, or `CancellationError` when the waiting task is cancelled.
    public func admit(agent: String, user: String) async throws -> Admission {
        nextTicket += 1
        let ticket = nextTicket
        if waiting.isEmpty || !waiting.contains(where: { $0.agent == agent || $0.user == user }),
            let admission = take(ticket, agent: agent, user: user)
        {
            return admission
        }
        guard waiting.count < limits.queued else { throw RunQueueFull(queued: waiting.count) }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                guard !Task.isCancelled else { return continuation.resume(throwing: CancellationError()) }
                waiting.append(Waiter(ticket: ticket, agent: agent, user: user, continuation: continuation))
                wake()
            }
        } onCancel: {
            Task { await self.abandon(ticket) }
        }
    }

    /// Gives back a place and lets waiting runs in.
    public func release(_ admission: Admission) {
        guard let held = running.removeValue(forKey: admission.ticket) else { return }
        freeSlots.append(held.slot)
        wake()
    }

    /// A place for `ticket` if every limit has room.
    private func take(_ ticket: Int, agent: String, user: String) -> Admission? {
        guard running.count < limits.overall,
            running.values.filter({ $0.agent == agent }).count < limits.perAgent,
            running.values.filter({ $0.user == user }).count < limits.perUser,
            let slot = freeSlots.popLast()
        else { return nil }
        running[ticket] = (agent, user, slot)
        return Admission(slot: slot, ticket: ticket)
    }

    /// Admits waiting runs, oldest first, that now fit.
    private func wake() {
        var index = 0
        while index < waiting.count, running.count < limits.overall {
            let waiter = waiting[index]
            if let admission = take(waiter.ticket, agent: waiter.agent, user: waiter.user) {
                waiting.remove(at: index)
                waiter.continuation.resume(returning: admission)
            } else {
                index += 1
            }
        }
    }

    /// Removes a cancelled waiter from the queue.
    private func abandon(_ ticket: Int) {
        guard let index = waiting.firstIndex(where: { $0.ticket == ticket }) else { return }
        waiting.remove(at: index).continuation.resume(throwing: CancellationError())
    }
}
