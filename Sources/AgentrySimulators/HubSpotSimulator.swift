import Foundation
import Hummingbird
import NIOFoundationCompat
import Synchronization

/// A stand-in for HubSpot's CRM API v3 that speaks its wire format for the operations the tool
/// gateway uses: `POST /crm/v3/objects/{objectType}/search` (filter groups with `EQ`,
/// `CONTAINS_TOKEN` and `GT`/`LT`, `query`, `properties`, `limit`, `after`),
/// `GET /crm/v3/objects/{objectType}/{objectId}` and `POST /crm/v3/objects/notes`, for contacts,
/// companies, deals and notes, with HubSpot's error body (`{"status": "error", "message",
/// "correlationId", "category"}`): 401 `INVALID_AUTHENTICATION`, 404 `OBJECT_NOT_FOUND`, 400
/// `VALIDATION_ERROR`. An object id asks for faults as `SimulatedFault` says.
public final class HubSpotSimulator: Sendable {
    private let objects: Mutex<[String: [String: [String: String]]]>
    private let nextID = Mutex(9_000)

    /// A simulator with fixture contacts, companies and deals.
    public init() {
        objects = Mutex([
            "contacts": [
                "101": [
                    "firstname": "Ada", "lastname": "Lovelace", "email": "ada@example.com", "company": "Analytical",
                ],
                "102": ["firstname": "Grace", "lastname": "Hopper", "email": "grace@example.com", "company": "Navy"],
                "103": [
                    "firstname": "Alan", "lastname": "Turing", "email": "alan@example.com", "company": "Analytical",
                ],
            ],
            "companies": [
                "201": ["name": "Analytical Engines", "domain": "analytical.example", "industry": "COMPUTER_HARDWARE"]
            ],
            "deals": [
                "301": ["dealname": "Engine upgrade", "amount": "120000", "dealstage": "contractsent"],
                "302": ["dealname": "Support renewal", "amount": "45000", "dealstage": "closedwon"],
            ],
            "notes": [:],
        ])
    }

    /// The simulator's routes under `/crm/v3/objects`, added to `router`.
    public func register<Routes: RouterMethods>(on router: Routes) {
        let crm = router.group("crm/v3/objects")
        crm.post("{objectType}/search") { request, context in
            let type = try context.parameters.require("objectType")
            let body = try await request.body.collect(upTo: SimulatorJSON.bodyBytesMax)
            return try self.guarded(request) { try self.search(type, Data(buffer: body)) }
        }
        crm.get("{objectType}/{objectId}") { request, context in
            let type = try context.parameters.require("objectType")
            let id = try context.parameters.require("objectId")
            if let fault = try await SimulatedFault.response(for: id) { return fault }
            return try self.guarded(request) { try self.read(type, SimulatedFault.base(id), request) }
        }
        crm.post("notes") { request, _ in
            let body = try await request.body.collect(upTo: SimulatorJSON.bodyBytesMax)
            return try self.guarded(request) { try self.createNote(Data(buffer: body)) }
        }
    }

    private func guarded(_ request: Request, _ body: () throws -> Response) throws -> Response {
        guard let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer "),
            authorization.count > "Bearer ".count
        else {
            return try Self.failure(
                401, "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
                category: "INVALID_AUTHENTICATION")
        }
        return try body()
    }

    private func search(_ type: String, _ data: Data) throws -> Response {
        guard let store = objects.withLock({ $0[type] }) else { return try Self.unknownType(type) }
        guard let request = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            return try Self.failure(400, "Invalid input JSON on line 1", category: "VALIDATION_ERROR")
        }
        let limit = request["limit"] as? Int ?? 10
        guard (1...200).contains(limit) else {
            return try Self.failure(400, "limit must be between 1 and 200", category: "VALIDATION_ERROR")
        }
        var matching = store.sorted { $0.key < $1.key }
        if let query = request["query"] as? String, !query.isEmpty {
            matching = matching.filter { $0.value.values.contains { $0.lowercased().contains(query.lowercased()) } }
        }
        if let groups = request["filterGroups"] as? [[String: Any]], !groups.isEmpty {
            var unknown: String?
            matching = matching.filter { _, properties in
                groups.contains { group in
                    (group["filters"] as? [[String: Any]] ?? []).allSatisfy { filter in
                        let name = filter["propertyName"] as? String ?? ""
                        let value = "\(filter["value"] ?? "")"
                        let have = properties[name] ?? ""
                        switch filter["operator"] as? String ?? "" {
                        case "EQ": return have.lowercased() == value.lowercased()
                        case "CONTAINS_TOKEN": return have.lowercased().contains(value.lowercased())
                        case "GT": return (Double(have) ?? 0) > (Double(value) ?? 0)
                        case "LT": return (Double(have) ?? 0) < (Double(value) ?? 0)
                        case let other:
                            unknown = other
                            return false
                        }
                    }
                }
            }
            if let unknown {
                return try Self.failure(400, "Unknown operator: \(unknown)", category: "VALIDATION_ERROR")
            }
        }
        let start = (request["after"] as? String).flatMap(Int.init) ?? 0
        let page = matching.dropFirst(start).prefix(limit)
        let wanted = request["properties"] as? [String]
        var body: [String: Any] = [
            "total": matching.count,
            "results": page.map { Self.object(id: $0.key, properties: $0.value, wanted: wanted) },
        ]
        if start + page.count < matching.count {
            body["paging"] = ["next": ["after": "\(start + page.count)", "link": "?after=\(start + page.count)"]]
        }
        return try SimulatorJSON.response(body)
    }

    private func read(_ type: String, _ id: String, _ request: Request) throws -> Response {
        guard let store = objects.withLock({ $0[type] }) else { return try Self.unknownType(type) }
        guard let properties = store[id] else {
            return try Self.failure(
                404, "Object not found.  objectId are usually numeric.", category: "OBJECT_NOT_FOUND")
        }
        let wanted = SimulatorQuery.parameters(request)["properties"].map { $0.split(separator: ",").map(String.init) }
        return try SimulatorJSON.response(Self.object(id: id, properties: properties, wanted: wanted))
    }

    private func createNote(_ data: Data) throws -> Response {
        guard let request = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
            let properties = request["properties"] as? [String: Any]
        else { return try Self.failure(400, "Invalid input JSON on line 1", category: "VALIDATION_ERROR") }
        guard let text = properties["hs_note_body"] as? String, !text.isEmpty else {
            return try Self.failure(
                400, "Property values were not valid: hs_note_body is required", category: "VALIDATION_ERROR")
        }
        let id = nextID.withLock { value in
            value += 1
            return "\(value)"
        }
        var stored = properties.mapValues { "\($0)" }
        stored["hs_timestamp"] = stored["hs_timestamp"] ?? "2026-11-28T00:00:00.000Z"
        let saved = stored
        objects.withLock { $0["notes", default: [:]][id] = saved }
        return try SimulatorJSON.response(Self.object(id: id, properties: saved, wanted: nil), status: .created)
    }

    private static func object(id: String, properties: [String: String], wanted: [String]?) -> [String: Any] {
        var shown = properties
        if let wanted { shown = properties.filter { wanted.contains($0.key) } }
        shown["hs_object_id"] = id
        return [
            "id": id, "properties": shown, "createdAt": "2026-01-05T10:00:00.000Z",
            "updatedAt": "2026-11-01T10:00:00.000Z", "archived": false,
        ]
    }

    private static func unknownType(_ type: String) throws -> Response {
        try failure(400, "Unable to infer object type from: \(type)", category: "VALIDATION_ERROR")
    }

    /// HubSpot's error body.
    private static func failure(_ code: Int, _ message: String, category: String) throws -> Response {
        try SimulatorJSON.response(
            [
                "status": "error", "message": message, "correlationId": "5b9e0c7a-0000-4000-8000-000000000000",
                "category": category,
            ], status: HTTPResponse.Status(code: code))
    }
}
