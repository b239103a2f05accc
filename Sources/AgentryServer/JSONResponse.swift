import AgentryIdentity
import Foundation
import Hummingbird

/// Renders API values as JSON: snake_case keys, ISO 8601 dates, sorted keys for stable output.
enum JSONResponse {
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        // Milliseconds, as the stores keep them, so a client can order events created in the same second.
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date))
        }
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    /// For documents whose format is someone else's (A2A's camelCase AgentCard): keys as declared.
    private static let verbatimEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    /// A response with `value` as its JSON body, its keys as declared rather than snake_case.
    static func verbatim(_ value: some Encodable) throws -> Response {
        let data = try verbatimEncoder.encode(value)
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

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

    enum CodingKeys: String, CodingKey {
        case items
        case nextAfter = "next_after"
    }

    /// Encodes `next_after` as an explicit null on the last page, so clients can rely on the key.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(nextAfter, forKey: .nextAfter)
    }
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
