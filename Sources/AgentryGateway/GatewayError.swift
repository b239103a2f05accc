/// Why the gateway refused or failed a call. Each inbound dialect renders it in its vendor's own
/// error shape and status, so the vendor's SDK raises its usual exception with this message.
/// Messages never carry a secret.
public struct GatewayError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of failure, which decides the status and the vendor's error type.
    public enum Kind: Sendable, Equatable {
        case invalidRequest
        case authentication
        case permission
        case notFound
        case capExceeded
        case rateLimited
        case requestTooLarge
        case upstream
        case upstreamTimeout
        case overloaded
        case `internal`
    }

    public let kind: Kind
    /// A stable code (`cap_exceeded`, `model_not_found`, …).
    public let code: String
    /// What and why, for a person.
    public let message: String
    /// The request field at fault, when there is one.
    public var param: String?
    /// Seconds after which a retry may succeed.
    public var retryAfter: Int?

    /// An error.
    public init(_ kind: Kind, code: String, _ message: String, param: String? = nil, retryAfter: Int? = nil) {
        self.kind = kind
        self.code = code
        self.message = Self.bounded(message)
        self.param = param
        self.retryAfter = retryAfter
    }

    /// The most characters of an error message: it quotes what the caller sent, which may be huge.
    public static let messageCharactersMax = 2000

    /// `message` cut to `messageCharactersMax` characters, saying how much was left out.
    public static func bounded(_ message: String) -> String {
        guard message.count > messageCharactersMax else { return message }
        return "\(message.prefix(messageCharactersMax))… (\(message.count - messageCharactersMax) more characters)"
    }

    /// A 400 about `param`.
    public static func invalid(_ message: String, param: String? = nil) -> GatewayError {
        GatewayError(.invalidRequest, code: "invalid_request", message, param: param)
    }

    /// The HTTP status.
    public var status: Int {
        switch kind {
        case .invalidRequest: 400
        case .authentication: 401
        case .permission: 403
        case .notFound: 404
        case .requestTooLarge: 413
        case .capExceeded, .rateLimited: 429
        case .upstream: 502
        case .upstreamTimeout: 504
        case .overloaded: 503
        case .internal: 500
        }
    }

    /// Whether the vendors' SDKs should retry: never for a refusal a retry cannot change.
    public var retryable: Bool {
        switch kind {
        case .rateLimited, .upstreamTimeout, .overloaded: true
        // A provider's outage may pass; its refusal of the org's key or of the model will not.
        case .upstream: code == "upstream_error" || code == "upstream_unreachable"
        default: false
        }
    }

    public var description: String { "\(code): \(message)" }
}
