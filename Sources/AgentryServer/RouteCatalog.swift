import HTTPTypes
import Synchronization

/// The routes the server registered, so a 404 on a known path with another method becomes a 405.
///
/// The error middleware must exist before the routes it wraps are added, so the list is filled in
/// once after the router is built and only read afterwards.
final class RouteCatalog: Sendable {
    private let entries = Mutex<[(method: HTTPRequest.Method, pattern: [Substring])]>([])

    /// Records `(method, "/api/v1/users/{id}")` pairs.
    func set(_ routes: [(HTTPRequest.Method, String)]) {
        entries.withLock { $0 = routes.map { ($0.0, $0.1.split(separator: "/")) } }
    }

    /// The methods registered for paths matching `path`, in registration order.
    func methods(forPath path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/")
        return entries.withLock { entries in
            var methods: [HTTPRequest.Method] = []
            for entry in entries where Self.matches(entry.pattern, segments) && !methods.contains(entry.method) {
                methods.append(entry.method)
            }
            return methods
        }
    }

    private static func matches(_ pattern: [Substring], _ segments: [Substring]) -> Bool {
        guard pattern.count == segments.count else { return false }
        return zip(pattern, segments).allSatisfy { part, segment in part.hasPrefix("{") || part == segment }
    }
}
