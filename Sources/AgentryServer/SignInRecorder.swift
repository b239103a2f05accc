import AgentryAudit
import AgentryIdentity
import Foundation

/// Appends `user.signed_in` when a credential is used: on its first use, then at most once per
/// `quietPeriod` while it stays in use. The store arbitrates between instances, so each sign-in is
/// recorded once; a per-instance memory of recent sign-ins keeps the store out of ordinary requests.
actor SignInRecorder {
    /// The least time between two recorded sign-ins of one credential.
    static let quietPeriod: TimeInterval = 3600
    /// Credentials remembered at most; the memory is cleared when full (the store still arbitrates).
    static let rememberedMax = 10_000

    private let identity: IdentityService
    private let clock: @Sendable () -> Date
    private var recent: [String: Date] = [:]

    /// A recorder claiming sign-ins through `identity`, which records them.
    init(identity: IdentityService, clock: @escaping @Sendable () -> Date) {
        self.identity = identity
        self.clock = clock
    }

    /// Notes that `user` authenticated with `token`, or through the proxy when `token` is nil.
    func used(by user: User, token: TokenRecord?) async throws {
        let credential = token?.id ?? "proxy:\(user.id)"
        let now = clock()
        if let last = recent[credential], now.timeIntervalSince(last) < Self.quietPeriod { return }
        if recent.count >= Self.rememberedMax { recent.removeAll() }
        recent[credential] = now
        do {
            _ = try await identity.claimSignIn(
                credential: credential, userID: user.id, at: now, quietSince: now.addingTimeInterval(-Self.quietPeriod),
                actor: token == nil ? "proxy" : user.id, subject: token?.id ?? user.id)
        } catch {
            recent[credential] = nil
            throw error
        }
    }
}
