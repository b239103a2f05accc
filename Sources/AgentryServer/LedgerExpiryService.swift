import AgentryLedger
import Logging
import ServiceLifecycle

/// Expires overdue reservations every second until graceful shutdown, on every instance: a
/// holder that crashed gives its hold back to the caps. Instances may race; each reservation
/// expires once (the store locks it and the rules answer `exists` to the loser).
struct LedgerExpiryService: Service {
    let ledger: Ledger
    let logger: Logger
    /// How often overdue reservations are looked for.
    static let interval: Duration = .seconds(1)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let expired = try await ledger.expireOverdue()
                    if expired > 0 {
                        logger.warning("ledger.reservations_expired", metadata: ["ledger.expired": "\(expired)"])
                    }
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("ledger.expiry_failed", metadata: ["error.description": .string("\(error)")])
                }
                do { try await Task.sleep(for: Self.interval) } catch { return }
            }
        }
    }
}
