import Foundation
import Hummingbird
import NIOFoundationCompat

/// A stand-in for the Google Drive API v3 that speaks its wire format for the operations the
/// tool gateway uses: `GET /drive/v3/files` (`q` with `name contains '…'`, `mimeType = '…'` and
/// `and`; `pageSize`, `pageToken`), `GET /drive/v3/files/{fileId}` (metadata, or the content
/// with `alt=media`) and `GET /drive/v3/files/{fileId}/export?mimeType=…` for Google Docs
/// files, with Google's error body (`{"error": {"code", "message", "errors": [{"domain",
/// "reason", …}]}}`): 401 without a bearer token, 404 `notFound`, 400 `invalid` for a query it
/// cannot read, 403 `fileNotDownloadable` / `fileNotExportable`. A file id asks for faults as
/// `SimulatedFault` says (`FAIL500`, `RATELIMIT`, `…~<n>ms`).
public struct GoogleDriveSimulator: Sendable {
    struct File: Sendable {
        let id: String
        let name: String
        let mimeType: String
        let content: String
        let modifiedTime: String
    }

    static let files: [File] = [
        File(
            id: "1AbcDocQ4Budget", name: "Q4 budget notes", mimeType: "application/vnd.google-apps.document",
            content: "Q4 budget: travel down 10%, tooling up 5%.", modifiedTime: "2026-10-02T09:00:00.000Z"),
        File(
            id: "1AbcSheetTeams", name: "Team roster", mimeType: "application/vnd.google-apps.spreadsheet",
            content: "team,lead\nplatform,alice\nsupport,bob\n", modifiedTime: "2026-09-14T12:30:00.000Z"),
        File(
            id: "1AbcTxtReadme", name: "README.txt", mimeType: "text/plain",
            content: "Shared drive for the finance team.\n", modifiedTime: "2026-08-01T08:00:00.000Z"),
        File(
            id: "1AbcPdfPolicy", name: "Travel policy.pdf", mimeType: "application/pdf",
            content: "%PDF-1.4 simulated travel policy", modifiedTime: "2026-07-20T16:45:00.000Z"),
    ]

    /// A simulator of the fixture files.
    public init() {}

    /// The simulator's routes under `/drive/v3`, added to `router`.
    public func register<Routes: RouterMethods>(on router: Routes) {
        let drive = router.group("drive/v3")
        drive.get("files") { request, _ in try Self.guarded(request) { try Self.list(request) } }
        drive.get("files/{fileId}") { request, context in
            let id = try context.parameters.require("fileId")
            if let fault = try await SimulatedFault.response(for: id) { return fault }
            return try Self.guarded(request) { try Self.get(SimulatedFault.base(id), request) }
        }
        drive.get("files/{fileId}/export") { request, context in
            let id = try context.parameters.require("fileId")
            if let fault = try await SimulatedFault.response(for: id) { return fault }
            return try Self.guarded(request) { try Self.export(SimulatedFault.base(id), request) }
        }
    }

    private static func guarded(_ request: Request, _ body: () throws -> Response) throws -> Response {
        guard let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer "),
            authorization.count > "Bearer ".count
        else {
            return try failure(
                401, "Request is missing required authentication credential. Expected OAuth 2 access token.",
                reason: "required", location: "Authorization")
        }
        return try body()
    }

    private static func list(_ request: Request) throws -> Response {
        let parameters = SimulatorQuery.parameters(request)
        var matching = files
        if let query = parameters["q"], !query.isEmpty {
            for clause in query.components(separatedBy: " and ") {
                let trimmed = clause.trimmingCharacters(in: .whitespaces)
                if let value = quoted(trimmed, after: "name contains ") {
                    matching = matching.filter { $0.name.lowercased().contains(value.lowercased()) }
                } else if let value = quoted(trimmed, after: "mimeType = ") {
                    matching = matching.filter { $0.mimeType == value }
                } else if trimmed == "trashed = false" {
                    continue
                } else {
                    return try failure(400, "Invalid Value", reason: "invalid", location: "q")
                }
            }
        }
        let size = parameters["pageSize"].map { Int($0) ?? -1 } ?? 100
        guard (1...1000).contains(size) else {
            return try failure(
                400, "Invalid value '\(size)'. Values must be within the range: [1, 1000]", reason: "invalid",
                location: "pageSize")
        }
        let start = parameters["pageToken"].flatMap { Int($0.dropFirst(5)) } ?? 0
        let page = matching.dropFirst(start).prefix(size)
        var body: [String: Any] = [
            "kind": "drive#fileList", "incompleteSearch": false,
            "files": page.map { ["kind": "drive#file", "id": $0.id, "name": $0.name, "mimeType": $0.mimeType] },
        ]
        if start + page.count < matching.count { body["nextPageToken"] = "page-\(start + page.count)" }
        return try SimulatorJSON.response(body)
    }

    private static func get(_ id: String, _ request: Request) throws -> Response {
        guard let file = files.first(where: { $0.id == id }) else { return try notFound(id) }
        if SimulatorQuery.parameters(request)["alt"] == "media" {
            guard !file.mimeType.hasPrefix("application/vnd.google-apps.") else {
                return try failure(
                    403, "Only files with binary content can be downloaded. Use Export with Docs Editors files.",
                    reason: "fileNotDownloadable", location: "alt")
            }
            return Response(
                status: .ok, headers: [.contentType: file.mimeType],
                body: ResponseBody(byteBuffer: ByteBuffer(string: file.content)))
        }
        return try SimulatorJSON.response([
            "kind": "drive#file", "id": file.id, "name": file.name, "mimeType": file.mimeType,
            "modifiedTime": file.modifiedTime, "size": "\(file.content.utf8.count)",
        ])
    }

    private static func export(_ id: String, _ request: Request) throws -> Response {
        guard let file = files.first(where: { $0.id == id }) else { return try notFound(id) }
        guard let mimeType = SimulatorQuery.parameters(request)["mimeType"] else {
            return try failure(400, "Required parameter: mimeType", reason: "required", location: "mimeType")
        }
        guard file.mimeType.hasPrefix("application/vnd.google-apps.") else {
            return try failure(
                403, "Export only supports Docs Editors files.", reason: "fileNotExportable", location: "fileId")
        }
        guard ["text/plain", "text/csv", "text/html"].contains(mimeType) else {
            return try failure(
                400, "The requested conversion is not supported.", reason: "badRequest", location: "mimeType")
        }
        return Response(
            status: .ok, headers: [.contentType: mimeType],
            body: ResponseBody(byteBuffer: ByteBuffer(string: file.content)))
    }

    private static func quoted(_ clause: String, after prefix: String) -> String? {
        guard clause.hasPrefix(prefix) else { return nil }
        let rest = clause.dropFirst(prefix.count)
        guard rest.count >= 2, rest.first == "'", rest.last == "'" else { return nil }
        return String(rest.dropFirst().dropLast()).replacingOccurrences(of: "\\'", with: "'")
    }

    private static func notFound(_ id: String) throws -> Response {
        try failure(404, "File not found: \(id).", reason: "notFound", location: "fileId")
    }

    /// Google's error body.
    private static func failure(_ code: Int, _ message: String, reason: String, location: String) throws -> Response {
        try SimulatorJSON.response(
            [
                "error": [
                    "code": code, "message": message,
                    "errors": [
                        [
                            "message": message, "domain": "global", "reason": reason, "location": location,
                            "locationType": location == "Authorization" ? "header" : "parameter",
                        ]
                    ],
                ] as [String: Any]
            ], status: HTTPResponse.Status(code: code))
    }
}
