import AgentryRegistry
import AgentryTesting
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import AgentryServer

/// Pushing agent packages into a Sandbox over HTTP: drafts are the owner's alone, versions only go
/// up, a submitted version never changes, and hostile packages are refused whole.
@Suite("Agents")
struct AgentsAPITests {
    static func package(
        name: String = "notes-summarizer", version: String = "0.1.0", owner: String? = nil,
        extra: [ZipWriter.Entry] = []
    ) -> [UInt8] {
        var writer = ZipWriter()
        for file in AgentTemplate.files(name: name, kind: "code", owner: owner) {
            let text = file.text.replacingOccurrences(of: "0.1.0", with: version)
            writer.add(ZipWriter.Entry(path: file.path, bytes: Array(text.utf8)))
        }
        for entry in extra { writer.add(entry) }
        return writer.bytes()
    }

    @Test(arguments: TestBackend.allCases)
    func pushesLandInTheOwnersSandbox(_ backend: TestBackend) async throws {
        try await ServerFixture.with(backend) { fixture in
            let (_, alice) = try await fixture.member("alice@example.com")
            let (_, bob) = try await fixture.member("bob@example.com")
            try await fixture.application().test(.router) { client in
                let first = Self.package()
                let pushed = try await client.push(first, token: alice)
                #expect(pushed.status == .created, "\(pushed.text)")
                #expect(pushed.json["state"] as? String == "draft" && pushed.json["version"] as? String == "0.1.0")
                let digest = SHA256.hash(data: first).map { String(format: "%02x", $0) }.joined()
                #expect(pushed.json["package_sha256"] as? String == digest)
                #expect(
                    (pushed.json["files"] as? [[String: Any]])?.map { $0["path"] as? String } == [
                        "agent.yaml", "main.py", "requirements.txt",
                    ])
                let again = try await client.push(
                    Self.package(extra: [ZipWriter.Entry(path: "notes.md", bytes: [1])]), token: alice)
                #expect(again.status == .ok, "a draft is replaced: \(again.text)")
                expectError(try await client.push(Self.package(), token: bob), .forbidden, "not_owner")
                expectError(
                    try await client.push(Self.package(owner: "carol@example.com"), token: alice), .badRequest,
                    "owner_mismatch")
                let second = try await client.push(Self.package(version: "0.2.0"), token: alice)
                #expect(second.status == .created)
                expectError(
                    try await client.push(Self.package(version: "0.1.5"), token: alice), .conflict, "version_not_newer")

                // Nobody sees another's Sandbox: Bob gets "not found", as if the agent did not exist.
                expectError(
                    try await client.call(.get, "/api/v1/agents/notes-summarizer", token: bob), .notFound,
                    "agent_not_found")
                expectError(
                    try await client.call(.get, "/api/v1/agents/notes-summarizer/versions/0.1.0", token: bob),
                    .notFound, "agent_not_found")
                expectError(
                    try await client.call(
                        .get, "/api/v1/agents/notes-summarizer/versions/0.1.0", token: fixture.adminToken),
                    .notFound, "agent_not_found")
                let mine = try await client.call(.get, "/api/v1/agents", token: alice)
                #expect(mine.items.map { $0["name"] as? String } == ["notes-summarizer"])
                #expect(try await client.call(.get, "/api/v1/agents", token: bob).items.isEmpty)
                expectError(
                    try await client.call(.get, "/api/v1/agents?owner=all", token: bob), .forbidden, "forbidden")
                let detail = try await client.call(.get, "/api/v1/agents/notes-summarizer", token: alice)
                #expect(
                    (detail.json["versions"] as? [[String: Any]])?.map { $0["version"] as? String } == [
                        "0.1.0", "0.2.0",
                    ])
                let version = try await client.call(
                    .get, "/api/v1/agents/notes-summarizer/versions/0.2.0", token: alice)
                #expect((version.json["manifest"] as? String)?.contains("version: 0.2.0") == true)
                let zip = try await client.execute(
                    uri: "/api/v1/agents/notes-summarizer/versions/0.1.0/package", method: .get,
                    headers: [.authorization: "Bearer \(alice)"]
                ) { Array(buffer: $0.body) }
                #expect(try AgentPackage(zip: zip).files.map(\.path).contains("notes.md"))

                // Once submitted, a version never changes.
                let agent = try #require(try await fixture.store.registry.agent(name: "notes-summarizer"))
                #expect(
                    try await fixture.store.registry.setState(
                        agentID: agent.id, version: "0.2.0", from: .draft, to: .submitted, at: Date(), recording: []))
                expectError(
                    try await client.push(Self.package(version: "0.2.0"), token: alice), .conflict, "version_immutable")
                let seen = try await client.call(
                    .get, "/api/v1/agents/notes-summarizer/versions/0.2.0", token: fixture.adminToken)
                #expect(seen.status == .ok, "a submitted version is the reviewers' to see")

                let audited = try await client.call(
                    .get, "/api/v1/audit/records?kind=agent.pushed&subject=notes-summarizer", token: fixture.adminToken)
                #expect(
                    audited.items.compactMap { ($0["event"] as? [String: Any])?["outcome"] as? String } == [
                        "new", "replaced", "new",
                    ])
            }
        }
    }

    @Test func hostilePackagesAreRefusedWhole() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            let (_, alice) = try await fixture.member("alice@example.com")
            try await fixture.application().test(.router) { client in
                let cases: [([UInt8], HTTPResponse.Status, String)] = [
                    (
                        Self.package(extra: [ZipWriter.Entry(path: "../../etc/cron.d/x", bytes: [1])]), .badRequest,
                        "unsafe_package_entry"
                    ),
                    (
                        Self.package(extra: [ZipWriter.Entry(path: "link", bytes: Array("/etc".utf8), mode: 0o120777)]),
                        .badRequest, "unsafe_package_entry"
                    ),
                    (
                        Self.package(extra: [
                            ZipWriter.Entry(path: "zeros", bytes: [UInt8](repeating: 0, count: 65 << 20))
                        ]), .contentTooLarge, "package_too_large"
                    ),
                    (Array("not a zip".utf8), .badRequest, "invalid_package"),
                    (Self.package(name: "Bad_Name"), .badRequest, "invalid_manifest"),
                ]
                for (bytes, status, code) in cases {
                    expectError(try await client.push(bytes, token: alice), status, code)
                }
                expectError(
                    try await client.push(Self.package(), token: alice, contentType: "application/json"),
                    .unsupportedMediaType, "unsupported_media_type")
                expectError(
                    try await client.push([UInt8](repeating: 0, count: (20 << 20) + 1), token: alice), .contentTooLarge,
                    "body_too_large")
                expectError(try await client.push(Self.package(), token: nil), .unauthorized, "unauthenticated")
                #expect(
                    try await fixture.store.registry.agents(ownerID: nil, after: nil, limit: 10).isEmpty,
                    "nothing stored")
            }
        }
    }
}

extension TestClientProtocol {
    /// `POST /api/v1/agents` with a package.
    func push(_ bytes: [UInt8], token: String?, contentType: String = "application/zip") async throws -> JSONReply {
        var headers: HTTPFields = [.contentType: contentType]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await execute(uri: "/api/v1/agents", method: .post, headers: headers, body: ByteBuffer(bytes: bytes))
        {
            response in
            let text = String(buffer: response.body)
            let json = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
            return JSONReply(status: response.status, headers: response.headers, text: text, json: json)
        }
    }
}
