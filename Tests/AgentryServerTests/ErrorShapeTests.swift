import AgentryServer
import AgentryTesting
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Errors and limits")
struct ErrorShapeTests {
    @Test func unknownRoutesAndWrongMethods() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            try await fixture.application().test(.router) { client in
                expectError(
                    try await client.call(.get, "/api/v1/nothing-here", token: fixture.adminToken), .notFound,
                    "not_found")
                let wrong = try await client.call(.put, "/api/v1/teams", token: fixture.adminToken)
                expectError(wrong, .methodNotAllowed, "method_not_allowed")
                #expect(wrong.headers[.allow] == "GET, POST")
                let wrongOnParameter = try await client.call(.post, "/api/v1/users/usr_x", token: fixture.adminToken)
                expectError(wrongOnParameter, .methodNotAllowed, "method_not_allowed")
                #expect(wrongOnParameter.headers[.allow] == "GET, PATCH")
                expectError(try await client.call(.delete, "/healthz"), .methodNotAllowed, "method_not_allowed")
            }
        }
    }

    @Test(arguments: [
        ("{", "unexpected end of input at line 1, column 2"),
        ("{\"name\": \"x\",}", "unexpected '}' at line 1, column 14"),
        ("{\n  \"name\": tru\n}", "unexpected byte 0xa at line 2, column 14"),
        ("{\"name\": \"x\"} trailing", "unexpected data after the JSON value at line 1, column 15"),
        ("{'name': 'x'}", "unexpected ''' at line 1, column 2"),
        ("", "unexpected end of input at line 1, column 1"),
    ])
    func malformedJSONSaysWhere(_ body: String, _ position: String) async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            try await fixture.application().test(.router) { client in
                let reply = try await client.call(.post, "/api/v1/teams", token: fixture.adminToken, body: body)
                expectError(reply, .badRequest, "invalid_json")
                #expect(reply.errorMessage.contains(position), "\(reply.errorMessage)")
            }
        }
    }

    @Test func bodyShapeErrorsNameTheField() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            try await fixture.application().test(.router) { client in
                let token = fixture.adminToken
                let unknown = try await client.call(
                    .post, "/api/v1/teams", token: token, body: #"{"name":"a","department":"b","admin":true}"#)
                expectError(unknown, .badRequest, "unknown_field")
                #expect(unknown.errorMessage.contains("'admin'"))
                let missing = try await client.call(.post, "/api/v1/teams", token: token, body: #"{"name":"a"}"#)
                expectError(missing, .badRequest, "invalid_field")
                #expect(missing.errorMessage.contains("'department' is required"))
                let wrongType = try await client.call(
                    .post, "/api/v1/teams", token: token, body: #"{"name":5,"department":"b"}"#)
                expectError(wrongType, .badRequest, "invalid_field")
                #expect(wrongType.errorMessage.contains("'name' must be a string"))
                expectError(
                    try await client.call(.post, "/api/v1/teams", token: token, body: "[1,2]"), .badRequest,
                    "invalid_field")
                let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
                let tooDeep = try await client.call(.post, "/api/v1/teams", token: token, body: deep)
                expectError(tooDeep, .badRequest, "invalid_json")
                #expect(tooDeep.errorMessage.contains("nesting deeper than"))
                let form = try await client.call(
                    .post, "/api/v1/teams", token: token, body: "name=a",
                    contentType: "application/x-www-form-urlencoded")
                expectError(form, .unsupportedMediaType, "unsupported_media_type")
                #expect(try await client.call(.get, "/api/v1/teams", token: token).items.isEmpty)
            }
        }
    }

    @Test func duplicateKeysAndInvalidUTF8AreMalformed() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            try await fixture.application().test(.router) { client in
                let token = fixture.adminToken
                let duplicate = try await client.call(
                    .post, "/api/v1/teams", token: token, body: #"{"name":"a","department":"b","name":"c"}"#)
                expectError(duplicate, .badRequest, "invalid_json")
                #expect(duplicate.errorMessage.contains("duplicate key \"name\""))
                let escaped = try await client.call(
                    .post, "/api/v1/teams", token: token, body: #"{"name":"a","department":"b","n\u0061me":"c"}"#)
                expectError(escaped, .badRequest, "invalid_json")
                var headers = HTTPFields()
                headers[.authorization] = "Bearer \(token)"
                headers[.contentType] = "application/json"
                let invalid = try await client.execute(
                    uri: "/api/v1/teams", method: .post, headers: headers,
                    body: ByteBuffer(
                        bytes: Array(#"{"name":"a","department":""#.utf8) + [0xFF, 0xFE] + Array(#""}"#.utf8))
                ) { response in response.status }
                #expect(invalid == .badRequest)
                #expect(try await client.call(.get, "/api/v1/teams", token: token).items.isEmpty)
            }
        }
    }

    @Test func oversizedBodiesGet413OverRealHTTP() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            var configuration = ServerFixture.configuration
            configuration.bodyBytesMax = 4096
            try await fixture.application(configuration: configuration).test(.live) { client in
                let padding = String(repeating: "x", count: 10_000)
                let reply = try await client.call(
                    .post, "/api/v1/teams", token: fixture.adminToken, body: #"{"name":"a","department":"\#(padding)"}"#
                )
                expectError(reply, .contentTooLarge, "body_too_large")
                #expect(reply.errorMessage.contains("4096"))
                #expect(try await client.call(.get, "/api/v1/teams", token: fixture.adminToken).items.isEmpty)
            }
        }
    }

    @Test func badPagingIsRefused() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            try await fixture.application().test(.router) { client in
                for query in ["limit=0", "limit=501", "limit=ten", "limit=-1"] {
                    expectError(
                        try await client.call(.get, "/api/v1/teams?\(query)", token: fixture.adminToken), .badRequest,
                        "invalid_query")
                }
            }
        }
    }
}
