import AgentryIdentity
import Foundation
import Hummingbird

/// Renders API values as JSON: snake_case keys, ISO 8601 dates, sorted keys for stable output.
enum JSONResponse {
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    /// A response with `value` as its JSON body.
    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try encoder.encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// One page of a listing and the cursor for the next one.
struct Page<Item: Encodable & Sendable>: Encodable, Sendable {
    let items: [Item]
    /// Pass as `after` to get the next page; null on the last page.
    let nextAfter: String?
}

/// `limit` and `after` query parameters, validated.
struct Paging {
    let limit: Int
    let after: String?

    /// Reads paging parameters from `request`'s query.
    init(_ request: Request) throws {
        let query = request.uri.queryParameters
        if let text = query["limit"] {
            guard let limit = Int(String(text)), (1...IdentityLimits.pageSizeMax).contains(limit) else {
                throw APIError.invalidQuery("limit", "must be a whole number from 1 to \(IdentityLimits.pageSizeMax)")
            }
            self.limit = limit
        } else {
            self.limit = IdentityLimits.pageSizeDefault
        }
        self.after = query["after"].map(String.init)
    }

    /// The page of `items` (fetched with `limit + 1`) and its next cursor.
    func page<Item>(_ items: [Item], id: (Item) -> String) -> (items: [Item], nextAfter: String?) {
        guard items.count > limit else { return (items, nil) }
        let shown = Array(items.prefix(limit))
        return (shown, shown.last.map(id))
    }
}
