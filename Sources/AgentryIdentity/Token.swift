import Crypto

import struct Foundation.Date

/// The kinds of credentials Agentry issues; the kind is visible in the secret's prefix.
public enum TokenKind: String, CaseIterable, Codable, Sendable {
    /// Personal access token for the registry API and the CLI.
    case pat
    /// A builder's Sandbox key for the model and tool gateway.
    case sandbox
    /// A short-lived token minted for one Run.
    case run

    /// The prefix every secret of this kind starts with, e.g. `agt_pat_`.
    public var secretPrefix: String { "agt_\(rawValue)_" }

    /// The kind named by a secret's prefix, or nil when the text is not an Agentry token at all.
    public static func of(secret: String) -> TokenKind? {
        allCases.first { secret.hasPrefix($0.secretPrefix) }
    }
}

/// What is stored about an issued token: never the secret itself, only its SHA-256.
public struct TokenRecord: Equatable, Sendable {
    /// Random identifier, `tok_…`; safe to show and log.
    public var id: String
    /// Which kind of credential this is.
    public var kind: TokenKind
    /// The user the token acts as.
    public var userID: String
    /// The owner's label for the token.
    public var name: String
    /// Lowercase hex SHA-256 of the secret.
    public var secretHash: String
    /// The first characters of the secret, so the owner can tell tokens apart.
    public var hint: String
    /// When the token was issued.
    public var createdAt: Date
    /// After this moment the token no longer authenticates; nil means it does not expire.
    public var expiresAt: Date?
    /// When the token was revoked; a revoked token never authenticates again.
    public var revokedAt: Date?

    /// Creates a record; use `IssuedToken.issue` to make a new secret and its record together.
    public init(
        id: String, kind: TokenKind, userID: String, name: String, secretHash: String, hint: String,
        createdAt: Date, expiresAt: Date?, revokedAt: Date?
    ) {
        self.id = id
        self.kind = kind
        self.userID = userID
        self.name = name
        self.secretHash = secretHash
        self.hint = hint
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }
}

/// A freshly issued token: the secret, shown exactly once, and the record that is stored.
public struct IssuedToken: Sendable {
    /// The secret the holder presents, e.g. `agt_pat_…`; never stored, never logged.
    public let secret: String
    /// What the store keeps.
    public let record: TokenRecord

    /// Pairs a secret with its record; `issue` is how new tokens are made.
    public init(secret: String, record: TokenRecord) {
        self.secret = secret
        self.record = record
    }

    /// Generates a random secret of `kind` (256 bits) for `userID` and its record.
    public static func issue(
        kind: TokenKind, userID: String, name: String, now: Date, expiresAt: Date?
    ) -> IssuedToken {
        let secret = kind.secretPrefix + RandomText.base32(byteCount: IdentityLimits.tokenSecretBytes)
        let record = TokenRecord(
            id: RandomText.identifier(prefix: "tok"), kind: kind, userID: userID, name: name,
            secretHash: TokenHash.of(secret), hint: String(secret.prefix(kind.secretPrefix.count + 4)),
            createdAt: now, expiresAt: expiresAt, revokedAt: nil
        )
        return IssuedToken(secret: secret, record: record)
    }
}

/// The one way a token secret is turned into what the store keeps and looks up.
public enum TokenHash {
    /// Lowercase hex SHA-256 of the secret's UTF-8 bytes.
    public static func of(_ secret: String) -> String {
        SHA256.hash(data: Array(secret.utf8)).map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }
}

/// Random identifiers and secrets from the system's cryptographic generator.
public enum RandomText {
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")

    /// RFC 4648 base32 (lowercase, unpadded) of `byteCount` random bytes.
    public static func base32(byteCount: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        while bytes.count < byteCount {
            var word: UInt64 = generator.next()
            bytes += withUnsafeBytes(of: &word) { Array($0) }.prefix(byteCount - bytes.count)
        }
        var output = ""
        var buffer = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return output
    }

    /// A random identifier such as `usr_…` with 128 bits of randomness.
    public static func identifier(prefix: String) -> String {
        "\(prefix)_\(base32(byteCount: 16))"
    }
}
