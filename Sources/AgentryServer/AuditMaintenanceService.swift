import AgentryAudit
import Logging
import ServiceLifecycle

/// Background work on the audit log until graceful shutdown: the filter indexer, so listings read
/// the index rather than decoding leaves, and the outbox drainer, so a change whose audit entry
/// was written but never appended (a crash between the two) is recorded within seconds.
struct AuditMaintenanceService: Service {
    let store: any AuditStore
    let log: AuditLog
    let logger: Logger
    let clock: @Sendable () -> Int64
    /// How often the outbox is drained.
    static let drainInterval: Duration = .seconds(1)

    func run() async throws {
        let (logger, drainer) = (logger, AuditOutboxDrainer(store: store, log: log, clock: clock))
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await AuditIndexer(store: store).run { error in
                        logger.error("audit.index_failed", metadata: ["error.description": .string("\(error)")])
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        do {
                            let appended = try await drainer.drain { id, error in
                                logger.error(
                                    "audit.outbox_undecodable",
                                    metadata: [
                                        "audit.outbox.id": .string(id), "error.description": .string("\(error)"),
                                    ])
                            }
                            if appended > 0 {
                                logger.warning(
                                    "audit.outbox_drained", metadata: ["audit.outbox.appended": "\(appended)"])
                            }
                        } catch is CancellationError {
                            return
                        } catch {
                            logger.error("audit.outbox_failed", metadata: ["error.description": .string("\(error)")])
                        }
                        do { try await Task.sleep(for: Self.drainInterval) } catch { return }
                    }
                }
            }
        }
    }
}
