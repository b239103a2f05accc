import AgentryAudit
import AgentryIdentity
import Foundation
import HTTPTypes
import Hummingbird

/// Establishes who a registry API request acts as: a personal access token, or a trusted proxy's header.
struct Authenticator: Sendable {
    let identity: IdentityService
    let proxy: ProxyIdentitySettings
    let signIns: SignInRecorder

    /// The principal of `request`, or a 401 `AuthenticationError` saying what is wrong.
    func principal(for request: Request, context: AgentryRequestContext) async throws -> Principal {
        if let email = proxyEmail(request) {
            guard let address = context.remoteAddress, proxy.trustedProxies.contains(where: { $0.contains(address) })
            else {
                throw AuthenticationError.untrustedProxy(header: proxy.emailHeader)
            }
            // A name that was not valid UTF-8 arrives with U+FFFD in it: it is ignored, not stored altered.
            let name = HTTPField.Name(proxy.nameHeader).flatMap { request.headers[$0] }.flatMap {
                $0.contains("\u{FFFD}") ? nil : $0
            }
            let user = try await identity.proxyUser(
                email: email, displayName: name, provision: proxy.provisionUsers, header: proxy.emailHeader)
            try await signIns.used(by: user, token: nil)
            return Principal(user: user, token: nil)
        }
        guard let authorization = request.headers[.authorization] else { throw AuthenticationError.missingCredential }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw AuthenticationError.invalidToken }
        let secret = parts[1].trimmingCharacters(in: .whitespaces)
        let (user, token) = try await identity.authenticate(secret: secret, accepted: [.pat])
        try await signIns.used(by: user, token: token)
        return Principal(user: user, token: token)
    }

    /// The identity header's value when the mode is on and the header is present.
    private func proxyEmail(_ request: Request) -> String? {
        guard proxy.enabled, let name = HTTPField.Name(proxy.emailHeader) else { return nil }
        return request.headers[name]
    }
}
