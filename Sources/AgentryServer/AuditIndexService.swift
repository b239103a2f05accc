import AgentryAudit
import Logging
import ServiceLifecycle

/// Runs the audit log's filter indexer in the background until graceful shutdown, so filtered
/// listings read the index rather than decoding leaves.
struct AuditIndexService: Service {
    let store: any AuditStore
    let logger: Logger

    func run() async throws {
        let logger = logger
        await cancelWhenGracefulShutdown {
            await AuditIndexer(store: store).run { error in
                logger.error("audit.index_failed", metadata: ["error.description": .string("\(error)")])
            }
        }
    }
}
