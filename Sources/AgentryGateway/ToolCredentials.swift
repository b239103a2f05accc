import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore

/// OAuth 2.0 client-credentials tokens of the tools that use them, fetched on first use and
/// kept until shortly before they expire; a tool that refuses a token (401) makes the next call
/// fetch a new one. Concurrent calls that find no token wait for one fetch.
actor ToolTokens {
    /// A token belongs to a client at an endpoint with a secret: a rotated secret gets new tokens.
    private struct Key: Hashable {
        let tokenURL: String
        let clientID: String
        let scope: String?
        let secretDigest: String

        init(tokenURL: String, clientID: String, scope: String?, secret: String) {
            self.tokenURL = tokenURL
            self.clientID = clientID
            self.scope = scope
            self.secretDigest = SHA256.hash(data: Array(secret.utf8)).map { String(format: "%02x", $0) }.joined()
        }
    }

    private var tokens: [Key: (token: String, until: ContinuousClock.Instant)] = [:]
    private var fetching: [Key: Task<(String, Duration), any Error>] = [:]
    private let client: HTTPClient

    /// The lifetime assumed when the token endpoint names none, and how long before expiry a token is renewed.
    static let assumedLifetime: Duration = .seconds(3600)
    static let renewalMargin: Duration = .seconds(30)

    init(client: HTTPClient) {
        self.client = client
    }

    /// A token for the client at `tokenURL`: the one held if still fresh, else a new one.
    func token(tokenURL: String, clientID: String, secret: String, scope: String?, tool: String)
        async throws(GatewayError) -> String
    {
        let key = Key(tokenURL: tokenURL, clientID: clientID, scope: scope, secret: secret)
        if let held = tokens[key], held.until > .now { return held.token }
        let task =
            fetching[key]
            ?? Task { [client] in
                try await Self.fetch(
                    client, tokenURL: tokenURL, clientID: clientID, secret: secret, scope: scope, tool: tool)
            }
        fetching[key] = task
        defer { fetching[key] = nil }
        do {
            let (token, lifetime) = try await task.value
            tokens[key] = (token, .now + max(.zero, lifetime - Self.renewalMargin))
            return token
        } catch let error as GatewayError {
            throw error
        } catch {
            throw GatewayError(.upstream, code: "token_unavailable", "the token endpoint of tool \(tool) failed")
        }
    }

    /// Forgets the token `token` (the tool refused it), so the next call fetches another.
    func invalidate(tokenURL: String, clientID: String, scope: String?, secret: String, token: String) {
        let key = Key(tokenURL: tokenURL, clientID: clientID, scope: scope, secret: secret)
        if tokens[key]?.token == token { tokens[key] = nil }
    }

    private static func fetch(
        _ client: HTTPClient, tokenURL: String, clientID: String, secret: String, scope: String?, tool: String
    ) async throws -> (String, Duration) {
        var form = [
            "grant_type=client_credentials", "client_id=" + formEscape(clientID), "client_secret=" + formEscape(secret),
        ]
        if let scope { form.append("scope=" + formEscape(scope)) }
        var request = HTTPClientRequest(url: tokenURL)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: form.joined(separator: "&")))
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await client.execute(request, timeout: .seconds(30))
            body = try await response.body.collect(upTo: 64 << 10)
        } catch {
            throw ProviderClient.transportError(error, provider: tool, noun: "the token endpoint of tool")
        }
        guard (200..<300).contains(response.status.code) else {
            throw GatewayError(
                .upstream, code: "upstream_credential_refused",
                "the token endpoint of tool \(tool) refused the org's client credentials (status \(response.status.code)); an admin must check them"
            )
        }
        guard let reply = JSONValue.parse(Array(buffer: body)), let token = reply["access_token"]?.string,
            !token.isEmpty
        else {
            throw GatewayError(
                .upstream, code: "token_unavailable", "the token endpoint of tool \(tool) answered no access_token")
        }
        let lifetime = reply["expires_in"]?.int.map { Duration.seconds($0) } ?? assumedLifetime
        return (token, lifetime)
    }

    private static func formEscape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}

/// How an outgoing webhook is signed, so its receiver can check it came from Agentry unaltered:
/// `agentry-signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the secret>`.
public enum WebhookSignature {
    /// The header's name.
    public static let header = "agentry-signature"

    /// The header value for `body` sent at `time`.
    public static func value(body: [UInt8], secret: String, time: Int64) -> String {
        var message = Array("\(time).".utf8)
        message.append(contentsOf: body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Array(secret.utf8)))
        return "t=\(time),v1=" + mac.map { String(format: "%02x", $0) }.joined()
    }
}
