import Foundation
import Hummingbird
import NIOFoundationCompat
import Synchronization

/// A stand-in for Salesforce's REST API (v60.0) and its OAuth 2.0 client-credentials token
/// endpoint, speaking their wire formats: `POST /services/oauth2/token`,
/// `GET /services/data/v60.0/query?q=` (SOQL: `SELECT fields FROM object [WHERE field = 'value'
/// [AND …]] [LIMIT n]`), and `GET`/`PATCH /services/data/v60.0/sobjects/{sobject}/{id}` for
/// Accounts and Contacts, with Salesforce's error body (`[{"message", "errorCode"}]`): 401
/// `INVALID_SESSION_ID`, 400 `MALFORMED_QUERY` / `INVALID_FIELD` / `INVALID_TYPE`, 404
/// `NOT_FOUND`; and the token endpoint's `{"error", "error_description"}`.
///
/// A client id ending in `@<n>s` gets tokens that expire after n seconds (Salesforce names no
/// lifetime in its answer), so a client's renewal can be tested. `GET /_stats` counts the tokens
/// issued. A record id asks for faults as `SimulatedFault` says.
public final class SalesforceSimulator: Sendable {
    /// The client secret the token endpoint accepts.
    let secret: String
    private let records: Mutex<[String: [String: [String: String]]]>
    /// Issued tokens and when each stops working.
    private let tokens = Mutex<[String: ContinuousClock.Instant]>([:])
    private let issued = Mutex(0)

    /// A simulator whose token endpoint accepts `secret`.
    public init(secret: String = "sim-builtin") {
        self.secret = secret
        records = Mutex([
            "Account": [
                "001A000001AbcDEF": ["Name": "Analytical Engines", "Industry": "Technology", "Rating": "Hot"],
                "001A000001XyzUVW": ["Name": "Difference Works", "Industry": "Manufacturing", "Rating": "Warm"],
            ],
            "Contact": [
                "003A000001AdaLov": ["FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com"],
                "003A000001GraHop": ["FirstName": "Grace", "LastName": "Hopper", "Email": "grace@example.com"],
            ],
        ])
    }

    /// The simulator's routes, added to `router`.
    public func register<Routes: RouterMethods>(on router: Routes) {
        router.post("services/oauth2/token") { request, _ in
            let body = try await request.body.collect(upTo: 64 << 10)
            return try self.token(String(buffer: body), base: request.uri.path)
        }
        router.get("_stats") { _, _ in try SimulatorJSON.response(["tokens_issued": self.issued.withLock { $0 }]) }
        let data = router.group("services/data/v60.0")
        data.get("query") { request, _ in try self.guarded(request) { try self.query(request) } }
        data.get("sobjects/{sobject}/{id}") { request, context in
            let (type, id) = (try context.parameters.require("sobject"), try context.parameters.require("id"))
            if let fault = try await SimulatedFault.response(for: id) { return fault }
            return try self.guarded(request) { try self.read(type, SimulatedFault.base(id)) }
        }
        data.patch("sobjects/{sobject}/{id}") { request, context in
            let (type, id) = (try context.parameters.require("sobject"), try context.parameters.require("id"))
            let body = try await request.body.collect(upTo: SimulatorJSON.bodyBytesMax)
            return try self.guarded(request) { try self.update(type, id, Data(buffer: body)) }
        }
    }

    private func token(_ form: String, base: String) throws -> Response {
        var fields: [String: String] = [:]
        for pair in form.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            fields[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        guard fields["grant_type"] == "client_credentials" else {
            return try SimulatorJSON.response(
                ["error": "unsupported_grant_type", "error_description": "grant type not supported"],
                status: .badRequest)
        }
        guard let client = fields["client_id"], !client.isEmpty, fields["client_secret"] == secret else {
            return try SimulatorJSON.response(
                ["error": "invalid_client", "error_description": "invalid client credentials"], status: .badRequest)
        }
        var lifetime: Duration?
        if client.hasSuffix("s"), let at = client.lastIndex(of: "@"),
            let seconds = Int(client[client.index(after: at)..<client.index(before: client.endIndex)])
        {
            lifetime = .seconds(seconds)
        }
        let count = issued.withLock { value in
            value += 1
            return value
        }
        let token = "00DSIM0000000001!AQ4AQ.sim\(count).\(UUID().uuidString.prefix(8))"
        let until = ContinuousClock.now + (lifetime ?? .seconds(86_400))
        tokens.withLock { $0[token] = until }
        return try SimulatorJSON.response([
            "access_token": token, "instance_url": "http://127.0.0.1",
            "id": "https://login.salesforce.com/id/00DSIM/005SIM",
            "token_type": "Bearer", "issued_at": "1764300000000", "signature": "c2ltdWxhdGVk",
        ])
    }

    private func guarded(_ request: Request, _ body: () throws -> Response) throws -> Response {
        let token = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        let until = token.flatMap { token in tokens.withLock { $0[token] } }
        guard let until, until > .now else {
            return try Self.failure(401, "Session expired or invalid", code: "INVALID_SESSION_ID")
        }
        return try body()
    }

    private func query(_ request: Request) throws -> Response {
        guard let soql = SimulatorQuery.parameters(request)["q"], !soql.isEmpty else {
            return try Self.failure(400, "A query string has to be specified", code: "MALFORMED_QUERY")
        }
        guard
            let parts = Self.match(
                #"^\s*SELECT\s+(.+?)\s+FROM\s+(\w+)(?:\s+WHERE\s+(.+?))?(?:\s+LIMIT\s+(\d+))?\s*$"#, soql)
        else { return try Self.failure(400, "unexpected token: '\(soql.prefix(40))'", code: "MALFORMED_QUERY") }
        let fields = parts[0]!.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let type = parts[1]!
        guard let store = records.withLock({ $0[type] }) else {
            return try Self.failure(400, "sObject type '\(type)' is not supported.", code: "INVALID_TYPE")
        }
        var conditions: [(String, String)] = []
        if let clause = parts[2] {
            for condition in clause.components(separatedBy: " AND ") {
                guard let pair = Self.match(#"^\s*(\w+)\s*=\s*'((?:[^'\\]|\\.)*)'\s*$"#, condition) else {
                    return try Self.failure(400, "unexpected token: '\(condition.prefix(40))'", code: "MALFORMED_QUERY")
                }
                conditions.append((pair[0]!, pair[1]!.replacingOccurrences(of: "\\'", with: "'")))
            }
        }
        let limit = parts[3].flatMap { Int($0) } ?? Int.max
        let known = Set(store.values.flatMap(\.keys)).union(["Id"])
        for field in fields + conditions.map(\.0) where !known.contains(field) {
            return try Self.failure(400, "No such column '\(field)' on entity '\(type)'.", code: "INVALID_FIELD")
        }
        let matching = store.sorted { $0.key < $1.key }.filter { id, values in
            conditions.allSatisfy { field, value in (field == "Id" ? id : values[field]) == value }
        }.prefix(limit)
        return try SimulatorJSON.response([
            "totalSize": matching.count, "done": true,
            "records": matching.map { id, values in
                var record: [String: Any] = [
                    "attributes": ["type": type, "url": "/services/data/v60.0/sobjects/\(type)/\(id)"]
                ]
                for field in fields { record[field] = field == "Id" ? id : values[field] ?? NSNull() }
                return record
            },
        ])
    }

    /// The capture groups of `pattern` (case-insensitive) matching all of `text`, nil where a group did not take part.
    private static func match(_ pattern: String, _ text: String) -> [String?]? {
        guard let expression = try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive]),
            let found = expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text))
        else { return nil }
        return (1..<found.numberOfRanges).map { index in
            Range(found.range(at: index), in: text).map { String(text[$0]) }
        }
    }

    private func read(_ type: String, _ id: String) throws -> Response {
        guard let values = records.withLock({ $0[type]?[id] }) else {
            return try Self.failure(404, "The requested resource does not exist", code: "NOT_FOUND")
        }
        var record: [String: Any] = [
            "attributes": ["type": type, "url": "/services/data/v60.0/sobjects/\(type)/\(id)"], "Id": id,
        ]
        for (field, value) in values { record[field] = value }
        return try SimulatorJSON.response(record)
    }

    private func update(_ type: String, _ id: String, _ data: Data) throws -> Response {
        guard let changes = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            return try Self.failure(400, "The JSON body could not be parsed", code: "JSON_PARSER_ERROR")
        }
        guard let values = records.withLock({ $0[type]?[id] }) else {
            return try Self.failure(404, "The requested resource does not exist", code: "NOT_FOUND")
        }
        for field in changes.keys where values[field] == nil {
            return try Self.failure(
                400, "No such column '\(field)' on sobject of type \(type)", code: "INVALID_FIELD")
        }
        records.withLock { store in
            for (field, value) in changes { store[type]?[id]?[field] = "\(value)" }
        }
        return Response(status: .noContent)
    }

    /// Salesforce's error body: a list of errors.
    private static func failure(_ status: Int, _ message: String, code: String) throws -> Response {
        try SimulatorJSON.response(
            [["message": message, "errorCode": code]], status: HTTPResponse.Status(code: status))
    }
}
