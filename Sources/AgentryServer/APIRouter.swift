import Foundation
import HTTPTypes
import Hummingbird

/// Registers routes on a router group and records them in a list, so 405 answers know the methods of a path.
final class APIRouter {
    let group: RouterGroup<AgentryRequestContext>
    private(set) var routes: [(HTTPRequest.Method, String)] = []
    private let prefix: String

    init(group: RouterGroup<AgentryRequestContext>, prefix: String) {
        self.group = group
        self.prefix = prefix
    }

    /// Adds a handler for `method` on `path` (relative to the group, `{name}` for parameters).
    func on(
        _ method: HTTPRequest.Method, _ path: String,
        _ handler: @escaping @Sendable (Request, AgentryRequestContext) async throws -> Response
    ) {
        group.on(
            RouterPath(path.replacingOccurrences(of: "{", with: ":").replacingOccurrences(of: "}", with: "")),
            method: method, use: handler)
        routes.append((method, prefix + (path.isEmpty ? "" : "/" + path)))
    }
}
