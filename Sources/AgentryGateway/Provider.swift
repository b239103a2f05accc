import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// A configured upstream: which API it speaks, where it is and which stored credential it uses.
public struct ProviderConfig: Equatable, Sendable {
    /// The wire formats a provider can speak.
    public enum API: String, CaseIterable, Sendable {
        case openai
        case anthropic
        case gemini
        case cohere
        /// Mistral's API, which is OpenAI's chat completions format.
        case mistral
        /// Any server speaking OpenAI's format: vLLM, Ollama, llama.cpp server, LM Studio.
        case openaiCompatible = "openai-compatible"

        /// The dialect requests to it are written in.
        public var dialect: Dialect {
            switch self {
            case .openai, .mistral, .openaiCompatible: .openai
            case .anthropic: .anthropic
            case .gemini: .gemini
            case .cohere: .cohere
            }
        }
    }

    /// The name models refer to.
    public let name: String
    public let api: API
    /// The base URL (OpenAI-style ones include `/v1`), or `builtin` for the simulator in this process.
    public let baseURL: String
    /// The vault credential holding its key; nil for a server that needs none.
    public let credential: String?
    public let connectTimeoutSeconds: Int64
    /// The longest wait for the next bytes of a reply.
    public let readTimeoutSeconds: Int64

    /// The base URL that means "the simulator built into this process".
    public static let builtin = "builtin"

    /// What a credential name may be.
    public static let credentialNameRule =
        "1–64 characters of a–z, 0–9, '.', '_' and '-', starting with a letter or digit"

    /// Whether `name` can name a stored credential.
    public static func isCredentialName(_ name: String) -> Bool {
        guard (1...64).contains(name.utf8.count), let first = name.utf8.first, ![0x2E, 0x5F, 0x2D].contains(first)
        else { return false }
        return name.utf8.allSatisfy {
            (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || [0x2E, 0x5F, 0x2D].contains($0)
        }
    }

    /// A provider; `ModelCatalog` checks its fields.
    public init(
        name: String, api: API, baseURL: String, credential: String?, connectTimeoutSeconds: Int64 = 5,
        readTimeoutSeconds: Int64 = 120
    ) {
        self.name = name
        self.api = api
        self.baseURL = baseURL
        self.credential = credential
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.readTimeoutSeconds = readTimeoutSeconds
    }

    /// The same provider at another base URL (the built-in simulator's, once it listens).
    public func at(baseURL: String) -> ProviderConfig {
        ProviderConfig(
            name: name, api: api, baseURL: baseURL, credential: credential,
            connectTimeoutSeconds: connectTimeoutSeconds, readTimeoutSeconds: readTimeoutSeconds)
    }
}

/// The inbound and outbound dialects the gateway speaks.
public enum Dialect: String, Sendable, CaseIterable {
    case openai
    case anthropic
    case gemini
    case cohere

    /// Its codec.
    public var codec: any ChatDialect {
        switch self {
        case .openai: OpenAIDialect()
        case .anthropic: AnthropicDialect()
        case .gemini: GeminiDialect()
        case .cohere: CohereDialect()
        }
    }
}

/// Where the gateway finds provider keys. Secrets it returns go into upstream requests only.
public protocol CredentialSource: Sendable {
    /// The secret of credential `name`, or nil when none is stored.
    func secret(named name: String) async throws -> String?
}

/// Credentials held in memory (the built-in simulators' keys, tests).
public struct StaticCredentials: CredentialSource {
    private let secrets: [String: String]

    /// Credentials by name.
    public init(_ secrets: [String: String]) { self.secrets = secrets }

    public func secret(named name: String) async throws -> String? { secrets[name] }
}

/// Sends requests to one provider over a pooled AsyncHTTPClient with explicit timeouts.
public final class ProviderClient: Sendable {
    public let config: ProviderConfig
    private let client: HTTPClient
    private let credentials: any CredentialSource

    /// The most bytes of a whole (non-streamed) reply the gateway reads.
    public static let replyBytesMax = 16 << 20

    /// The base URL without a trailing slash, read per request (the built-in simulators' is known
    /// only once the server listens).
    private let baseURL: @Sendable () -> String

    /// A client for `config`; `connections` bounds the pool per host. `baseURL` overrides the
    /// configured one (for `builtin`).
    public init(
        config: ProviderConfig, credentials: any CredentialSource, connections: Int = 128,
        baseURL: (@Sendable () -> String)? = nil
    ) {
        let configured = config.baseURL.hasSuffix("/") ? String(config.baseURL.dropLast()) : config.baseURL
        self.baseURL = baseURL ?? { configured }
        self.config = config
        self.credentials = credentials
        self.client = SharedHTTPClients.client(
            connectSeconds: config.connectTimeoutSeconds, readSeconds: config.readTimeoutSeconds,
            connections: connections)
    }

    /// What a request to a provider asks for.
    enum Operation: Sendable {
        case chat(stream: Bool)
        case embeddings
        /// Anthropic's token count of a messages request.
        case countTokens
    }

    /// Sends `body` for `upstreamModel` and returns the reply's status, headers and body stream.
    func send(_ body: [UInt8], upstreamModel: String, _ operation: Operation) async throws(GatewayError)
        -> HTTPClientResponse
    {
        let stream = if case .chat(true) = operation { true } else { false }
        var request = HTTPClientRequest(url: try url(upstreamModel: upstreamModel, operation))
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "accept", value: stream ? "text/event-stream" : "application/json")
        let secret: String?
        do {
            secret = try await config.credential.asyncMap { try await credentials.secret(named: $0) } ?? nil
        } catch {
            throw GatewayError(
                .internal, code: "credential_unavailable",
                "the credential of provider \(config.name) could not be read")
        }
        if let name = config.credential, secret == nil {
            throw GatewayError(
                .internal, code: "credential_missing",
                "provider \(config.name) needs the credential '\(name)', which is not stored; an admin must set it")
        }
        if let secret {
            switch config.api {
            case .anthropic:
                request.headers.add(name: "x-api-key", value: secret)
            case .gemini: request.headers.add(name: "x-goog-api-key", value: secret)
            case .openai, .mistral, .openaiCompatible, .cohere:
                request.headers.add(name: "authorization", value: "Bearer \(secret)")
            }
        }
        if config.api == .anthropic { request.headers.add(name: "anthropic-version", value: "2023-06-01") }
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            return try await client.execute(request, timeout: .seconds(config.readTimeoutSeconds))
        } catch {
            throw Self.transportError(error, provider: config.name)
        }
    }

    /// The secret this provider's calls carry (the credential as stored now), for taking it out of
    /// what the provider sends back; empty when there is none or it cannot be read.
    func injectedSecrets() async -> [String] {
        guard let name = config.credential, let secret = try? await credentials.secret(named: name) else { return [] }
        return [secret]
    }

    /// A transport failure as a gateway error that names the provider (or tool, per `noun`) but
    /// never a URL's secrets.
    static func transportError(_ error: any Error, provider: String, noun: String = "provider") -> GatewayError {
        if let error = error as? HTTPClientError,
            [.connectTimeout, .readTimeout, .deadlineExceeded].contains(error)
        {
            return GatewayError(
                .upstreamTimeout, code: "upstream_timeout", "\(noun) \(provider) did not answer in time")
        }
        if error is CancellationError {
            return GatewayError(.upstream, code: "cancelled", "the call to \(noun) \(provider) was cancelled")
        }
        return GatewayError(.upstream, code: "upstream_unreachable", "\(noun) \(provider) could not be reached")
    }

    private func url(upstreamModel: String, _ operation: Operation) throws(GatewayError) -> String {
        let base = baseURL()
        let stream = if case .chat(true) = operation { true } else { false }
        if case .embeddings = operation {
            guard config.api.dialect == .openai else {
                throw GatewayError.invalid(
                    "provider \(config.name) does not make embeddings through the gateway", param: "model")
            }
            return base + "/embeddings"
        }
        if case .countTokens = operation {
            guard config.api.dialect == .anthropic else {
                throw GatewayError.invalid(
                    "tokens are counted only for models of Anthropic-format providers; provider \(config.name) is not one",
                    param: "model")
            }
            return base + "/v1/messages/count_tokens"
        }
        switch config.api.dialect {
        case .openai: return base + "/chat/completions"
        case .cohere: return base + "/v2/chat"
        case .anthropic: return base + "/v1/messages"
        case .gemini:
            guard let model = upstreamModel.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) else {
                throw GatewayError(
                    .internal, code: "bad_upstream_model", "the upstream model id cannot be put in a URL")
            }
            return base + "/v1beta/models/\(model)" + (stream ? ":streamGenerateContent?alt=sse" : ":generateContent")
        }
    }
}

/// The process's HTTP clients, one per set of timeouts, each pooling connections per host. They
/// live as long as the process (like AsyncHTTPClient's own shared client), so a gateway that is
/// built but never run, or several gateways in one process, never leak or strand a pool.
enum SharedHTTPClients {
    private struct Key: Hashable {
        let connect: Int64
        let read: Int64
        let connections: Int
    }

    private static let clients = Mutex<[Key: HTTPClient]>([:])

    /// The client for these timeouts and pool width, made on first use.
    static func client(connectSeconds: Int64, readSeconds: Int64, connections: Int) -> HTTPClient {
        let key = Key(connect: connectSeconds, read: readSeconds, connections: connections)
        return clients.withLock { clients in
            if let client = clients[key] { return client }
            var configuration = HTTPClient.Configuration(
                timeout: .init(connect: .seconds(connectSeconds), read: .seconds(readSeconds)))
            configuration.connectionPool = .init(
                idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
            configuration.decompression = .disabled
            configuration.redirectConfiguration = .disallow
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            clients[key] = client
            return client
        }
    }
}

extension Optional {
    /// `transform` applied to the wrapped value, awaited.
    fileprivate func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
