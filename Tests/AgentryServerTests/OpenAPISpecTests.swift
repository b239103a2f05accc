import AgentryTesting
import Foundation
import HTTPTypes
import Testing
import Yams

@testable import AgentryServer

/// docs/api/openapi.yaml must describe exactly the routes the server serves, with closed request bodies.
@Suite("OpenAPI spec")
struct OpenAPISpecTests {
    static let specPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../docs/api/openapi.yaml").standardized.path

    static func spec() throws -> [String: Any] {
        let text = try String(contentsOfFile: specPath, encoding: .utf8)
        return try #require(try Yams.load(yaml: text) as? [String: Any])
    }

    @Test func documentsExactlyTheServedRoutes() async throws {
        let spec = try Self.spec()
        #expect((spec["openapi"] as? String)?.hasPrefix("3.") == true)
        let paths = try #require(spec["paths"] as? [String: Any])
        var documented: Set<String> = []
        for (path, value) in paths {
            let operations = try #require(value as? [String: Any])
            for method in operations.keys where ["get", "post", "put", "patch", "delete"].contains(method) {
                documented.insert("\(method.uppercased()) \(path)")
            }
        }
        let served = try await StoreFixture.withStore(.sqlite) { store in
            let files = try TemporaryDirectory()
            defer { files.remove() }
            let dependencies = ApplicationDependencies(
                store: store, logger: StoreFixture.quietLogger,
                checkpointer: try ServerFixture.checkpointer(store, directory: files))
            return Set(
                buildRoutes(configuration: .init(), dependencies: dependencies).routes.map {
                    "\($0.0.rawValue) \($0.1)"
                })
        }
        #expect(
            documented == served,
            "only documented: \(documented.subtracting(served)); only served: \(served.subtracting(documented))")
    }

    @Test func requestBodiesAreClosedLikeTheServer() throws {
        let spec = try Self.spec()
        let schemas = try #require((spec["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let bodies: [(String, [String])] = [
            ("CreateTeamBody", CreateTeamBody.fields), ("UpdateTeamBody", UpdateTeamBody.fields),
            ("CreateUserBody", CreateUserBody.fields), ("UpdateUserBody", UpdateUserBody.fields),
            ("CreateTokenBody", CreateTokenBody.fields), ("SetCapBody", SetCapBody.fields),
            ("ReserveBody", ReserveBody.fields), ("SettleBody", SettleBody.fields),
            ("SetCapsBody", SetCapsBody.fields), ("SetCredentialBody", SetCredentialBody.fields),
            ("SetCatalogBody", SetCatalogBody.fields),
        ]
        for (name, fields) in bodies {
            let schema = try #require(schemas[name] as? [String: Any], "no schema \(name)")
            #expect(schema["additionalProperties"] as? Bool == false, "\(name) is not closed")
            let properties = try #require(schema["properties"] as? [String: Any])
            #expect(
                Set(properties.keys) == Set(fields),
                "\(name): spec \(properties.keys.sorted()), server \(fields.sorted())")
        }
    }
}
