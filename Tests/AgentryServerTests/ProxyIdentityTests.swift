import AgentryServer
import AgentryTesting
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The reverse-proxy identity mode, over real loopback connections so the peer address is real.
@Suite("Reverse-proxy identity")
struct ProxyIdentityTests {
    static let email = HTTPField.Name("X-Forwarded-Email")!
    static let name = HTTPField.Name("X-Forwarded-User")!

    static func configuration(trusting ranges: String?) -> ServerConfiguration {
        var configuration = ServerFixture.configuration
        configuration.proxyIdentity.enabled = ranges != nil
        configuration.proxyIdentity.trustedProxies = (ranges ?? "").split(separator: ",").compactMap {
            AddressRange(String($0))
        }
        return configuration
    }

    @Test func aTrustedProxyNamesTheUserWhoIsCreatedOnce() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            try await fixture.application(configuration: Self.configuration(trusting: "127.0.0.1/32,::1")).test(.live) {
                client in
                let headers: HTTPFields = [Self.email: "Grace.Hopper@Example.com", Self.name: "Grace Hopper"]
                let first = try await client.call(.get, "/api/v1/users/me", headers: headers)
                #expect(first.status == .ok, "\(first.text)")
                #expect(first.json["email"] as? String == "grace.hopper@example.com")
                #expect(first.json["display_name"] as? String == "Grace Hopper")
                #expect(first.json["roles"] as? [String] == ["member"])
                let second = try await client.call(.get, "/api/v1/users/me", headers: headers)
                #expect(second.json["id"] as? String == first.json["id"] as? String)
                let signIns = try await SignInTests.signIns(fixture)
                #expect(signIns.count == 1, "one sign-in for two requests: \(signIns)")
                #expect(signIns.first?.actor == "proxy" && signIns.first?.subject == first.json["id"] as? String)
                // A name that is not valid UTF-8 is ignored rather than stored with U+FFFD in it.
                var garbled = HTTPFields()
                garbled[Self.email] = "mallory@example.com"
                garbled.append(HTTPField(name: Self.name, lenientValue: Array("Evil ".utf8) + [0xFF, 0xFE]))
                let mallory = try await client.call(.get, "/api/v1/users/me", headers: garbled)
                #expect(mallory.status == .ok, "\(mallory.text)")
                #expect((mallory.json["display_name"] as? String)?.contains("\u{FFFD}") == false, "\(mallory.text)")
                expectError(
                    try await client.call(.get, "/api/v1/users/me", headers: [Self.email: "not-an-email"]),
                    .unauthorized,
                    "invalid_identity_header")
            }
        }
    }

    @Test func theHeaderFromAnUntrustedAddressIsRefused() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            try await fixture.application(configuration: Self.configuration(trusting: "10.0.0.0/8")).test(.live) {
                client in
                let reply = try await client.call(.get, "/api/v1/users/me", headers: [Self.email: "admin@example.com"])
                expectError(reply, .unauthorized, "untrusted_proxy")
                let withToken = try await client.call(
                    .get, "/api/v1/users/me", token: fixture.adminToken, headers: [Self.email: "admin@example.com"])
                expectError(withToken, .unauthorized, "untrusted_proxy")
            }
            #expect(try await fixture.store.identity.users(after: nil, limit: 10).count == 1)
        }
    }

    @Test func withTheModeOffTheHeaderIsIgnored() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            try await fixture.application(configuration: Self.configuration(trusting: nil)).test(.live) { client in
                expectError(
                    try await client.call(.get, "/api/v1/users/me", headers: [Self.email: "admin@example.com"]),
                    .unauthorized,
                    "unauthenticated")
            }
        }
    }

    @Test(arguments: [
        ("127.0.0.1", "127.0.0.1", true), ("10.0.0.0/8", "10.200.3.4", true), ("10.0.0.0/8", "11.0.0.1", false),
        ("192.168.1.0/24", "192.168.2.1", false), ("::1", "::1", true), ("fd00::/8", "fd12::1", true),
        ("127.0.0.1", "::ffff:127.0.0.1", true), ("0.0.0.0/0", "8.8.8.8", true), ("::1", "127.0.0.1", false),
    ])
    func addressRanges(_ range: String, _ address: String, _ inside: Bool) throws {
        let parsed = try #require(AddressRange(range))
        let socket = try SocketAddress(ipAddress: address, port: 1)
        #expect(parsed.contains(socket) == inside)
    }

    @Test(arguments: ["", "10.0.0.0/33", "::1/129", "localhost", "10.0.0/8", "1.2.3.4/x", "1.2.3.4/8/9"])
    func malformedRangesAreRefused(_ text: String) {
        #expect(AddressRange(text) == nil)
    }
}
