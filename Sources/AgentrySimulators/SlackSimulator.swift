import Foundation
import Hummingbird
import NIOFoundationCompat
import Synchronization

/// A stand-in for Slack's Web API that speaks its wire format for the operations the tool
/// gateway uses: `chat.postMessage` (JSON or form body), `conversations.list` and
/// `conversations.history` (query or form parameters), each answering Slack's `{"ok": …}`
/// envelope, with `cursor` paging, and Slack's errors: HTTP 200 with `ok: false` and an `error`
/// code (`not_authed`, `invalid_auth`, `channel_not_found`, `no_text`, `invalid_limit`), 429
/// `ratelimited` with `Retry-After`. Channels and messages live in memory, so a test reads back
/// what was posted, or that nothing was.
///
/// Faults: a token `xoxb-invalid` is refused; the channel `CFAIL500` answers HTTP 500, `CRATELIMIT`
/// 429, and a channel id ending in `@<n>ms` answers n milliseconds late.
public final class SlackSimulator: Sendable {
    /// A channel of the fixture.
    struct Channel: Sendable {
        let id: String
        let name: String
        let created: Int
        let topic: String
    }

    /// A message in a channel.
    struct Message: Sendable {
        let user: String
        let text: String
        let ts: String
    }

    private let channels: [Channel] = [
        Channel(id: "C0GENERAL01", name: "general", created: 1_700_000_000, topic: "Company-wide announcements"),
        Channel(id: "C0SUPPORT01", name: "support", created: 1_700_000_100, topic: "Customer tickets"),
        Channel(id: "C0FINANCE01", name: "finance", created: 1_700_000_200, topic: "Invoices and expenses"),
    ]
    private let history: Mutex<[String: [Message]]>
    private let clock = Mutex<Int>(1_764_300_000_000_000)

    /// A simulator with its fixture channels, each with one message.
    public init() {
        history = Mutex([
            "C0GENERAL01": [Message(user: "U0ALICE01", text: "Welcome to the workspace", ts: "1764299000.000100")],
            "C0SUPPORT01": [Message(user: "U0BOB0001", text: "Ticket 4521 needs a reply", ts: "1764299100.000100")],
            "C0FINANCE01": [Message(user: "U0CAROL01", text: "November invoices are in", ts: "1764299200.000100")],
        ])
    }

    /// The simulator's routes under `/api`, added to `router`.
    public func register<Routes: RouterMethods>(on router: Routes) {
        let api = router.group("api")
        for method in ["chat.postMessage", "conversations.list", "conversations.history"] {
            let handler: @Sendable (Request, Routes.Context) async throws -> Response = { request, _ in
                try await self.answer(method, request)
            }
            api.get(RouterPath(method), use: handler)
            api.post(RouterPath(method), use: handler)
        }
    }

    private func answer(_ method: String, _ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: SimulatorJSON.bodyBytesMax)
        var arguments: [String: Any] = [:]
        for (key, value) in SimulatorQuery.parameters(request) { arguments[key] = value }
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        if body.readableBytes > 0 {
            if contentType.hasPrefix("application/json") {
                guard let object = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any]
                else { return try Self.failure("invalid_json") }
                arguments.merge(object) { _, new in new }
            } else {
                for pair in String(buffer: body).split(separator: "&") {
                    let parts = pair.split(separator: "=", maxSplits: 1).map {
                        String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
                    }
                    arguments[parts[0]] = parts.count > 1 ? parts[1] : ""
                }
            }
        }
        guard let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer "),
            authorization.count > "Bearer ".count
        else { return try Self.failure("not_authed") }
        guard authorization != "Bearer xoxb-invalid" else { return try Self.failure("invalid_auth") }
        let channel = arguments["channel"] as? String
        if let channel {
            if channel == "CFAIL500" {
                return Response(status: .internalServerError, body: ResponseBody(byteBuffer: ByteBuffer(string: "")))
            }
            if channel == "CRATELIMIT" {
                var response = try SimulatorJSON.response(
                    ["ok": false, "error": "ratelimited"], status: .tooManyRequests)
                response.headers[.retryAfter] = "1"
                return response
            }
            if let delay = SimulatedLatency.of(model: channel) { try await Task.sleep(for: delay) }
        }
        switch method {
        case "chat.postMessage": return try post(arguments)
        case "conversations.list": return try list(arguments)
        default: return try read(arguments)
        }
    }

    private func post(_ arguments: [String: Any]) throws -> Response {
        guard let id = arguments["channel"] as? String, let channel = channel(id) else {
            return try Self.failure("channel_not_found")
        }
        guard let text = arguments["text"] as? String, !text.isEmpty else { return try Self.failure("no_text") }
        guard text.count <= 40_000 else { return try Self.failure("msg_too_long") }
        let ts = clock.withLock { now in
            now += 100
            return String(format: "%d.%06d", now / 1_000_000, now % 1_000_000)
        }
        let message = Message(user: "U0AGENTRY1", text: text, ts: ts)
        history.withLock { $0[channel.id, default: []].append(message) }
        return try SimulatorJSON.response([
            "ok": true, "channel": channel.id, "ts": ts,
            "message": [
                "type": "message", "subtype": "bot_message", "text": text, "user": message.user, "ts": ts,
                "bot_id": "B0AGENTRY1",
            ],
        ])
    }

    private func list(_ arguments: [String: Any]) throws -> Response {
        guard let (limit, start) = try Self.page(arguments) else { return try Self.failure(Self.pageError(arguments)) }
        let page = channels.dropFirst(start).prefix(limit)
        let next = start + page.count < channels.count ? Self.cursor(start + page.count) : ""
        return try SimulatorJSON.response([
            "ok": true,
            "channels": page.map { channel in
                [
                    "id": channel.id, "name": channel.name, "is_channel": true, "is_group": false, "is_im": false,
                    "is_private": false, "is_archived": false, "is_general": channel.name == "general",
                    "created": channel.created, "creator": "U0ALICE01", "name_normalized": channel.name,
                    "num_members": 3, "topic": ["value": channel.topic, "creator": "U0ALICE01", "last_set": 0],
                    "purpose": ["value": "", "creator": "", "last_set": 0],
                ] as [String: Any]
            },
            "response_metadata": ["next_cursor": next],
        ])
    }

    private func read(_ arguments: [String: Any]) throws -> Response {
        guard let id = arguments["channel"] as? String, let channel = channel(id) else {
            return try Self.failure("channel_not_found")
        }
        guard let (limit, start) = try Self.page(arguments) else { return try Self.failure(Self.pageError(arguments)) }
        // Newest first, as Slack returns them.
        let messages = Array(history.withLock { $0[channel.id] ?? [] }.reversed())
        let page = messages.dropFirst(start).prefix(limit)
        let more = start + page.count < messages.count
        return try SimulatorJSON.response([
            "ok": true, "has_more": more, "pin_count": 0,
            "messages": page.map { ["type": "message", "user": $0.user, "text": $0.text, "ts": $0.ts] },
            "response_metadata": ["next_cursor": more ? Self.cursor(start + page.count) : ""],
        ])
    }

    private func channel(_ id: String) -> Channel? {
        channels.first { $0.id == id || $0.id == id.split(separator: "@").first.map(String.init) }
    }

    /// `limit` (1…1000, default 100) and where `cursor` starts; nil for a limit out of range.
    private static func page(_ arguments: [String: Any]) throws -> (Int, Int)? {
        let limitValue = arguments["limit"].map { "\($0)" } ?? "100"
        guard let limit = Int(limitValue), (1...1000).contains(limit) else { return nil }
        var start = 0
        if let cursor = arguments["cursor"] as? String, !cursor.isEmpty {
            guard let decoded = Data(base64Encoded: cursor).map({ String(decoding: $0, as: UTF8.self) }),
                decoded.hasPrefix("next:"), let offset = Int(decoded.dropFirst(5))
            else { return nil }
            start = offset
        }
        return (limit, start)
    }

    /// Which of `limit` and `cursor` made `page` refuse: Slack's `invalid_limit` or `invalid_cursor`.
    private static func pageError(_ arguments: [String: Any]) -> String {
        let limit = arguments["limit"].map { "\($0)" } ?? "100"
        return Int(limit).map { (1...1000).contains($0) } == true ? "invalid_cursor" : "invalid_limit"
    }

    private static func cursor(_ offset: Int) -> String { Data("next:\(offset)".utf8).base64EncodedString() }

    /// Slack's failure envelope: HTTP 200, `ok: false`, the error's code.
    private static func failure(_ code: String) throws -> Response {
        try SimulatorJSON.response(["ok": false, "error": code])
    }
}
