import Crypto
import Foundation

/// The vault's master key: 32 random bytes kept outside the database (a key file of mode 0600 or
/// the environment), never stored with the credentials it protects. Written as text
/// `agentry-vault-key:v1:<base64>`.
public struct VaultKey: Sendable {
    fileprivate let key: SymmetricKey
    /// A short public name of the key (from its SHA-256), stored with every sealed credential so a
    /// wrong key is reported as a wrong key, not as tampering.
    public let id: String

    private static let prefix = "agentry-vault-key:v1:"

    /// A new random key and its text.
    public static func generate() -> (key: VaultKey, text: String) {
        let key = SymmetricKey(size: .bits256)
        let text = prefix + key.withUnsafeBytes { Data($0).base64EncodedString() }
        return (VaultKey(key), text)
    }

    private init(_ key: SymmetricKey) {
        self.key = key
        let digest = key.withUnsafeBytes { SHA256.hash(data: $0) }
        id = digest.prefix(4).map { String(format: "%02x", $0) }.joined()
    }

    /// The key a text holds; the error never repeats the text.
    public init(text: String) throws(VaultError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix(Self.prefix),
            let bytes = Data(base64Encoded: String(trimmed.dropFirst(Self.prefix.count))),
            bytes.count == 32
        else { throw .malformedKey }
        self.init(SymmetricKey(data: bytes))
    }

    /// The key in the file at `path`, which must be readable by its owner only.
    public static func load(path: String) throws(VaultError) -> VaultKey {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let permissions = attributes[.posixPermissions] as? Int
        else { throw .keyFileUnreadable(path: path) }
        guard permissions & 0o077 == 0 else { throw .keyFileTooOpen(path: path, mode: permissions) }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw .keyFileUnreadable(path: path)
        }
        return try VaultKey(text: text)
    }
}

/// Credentials sealed with AES-256-GCM under the vault key. Each is bound to its name (the
/// name is authenticated data), so a sealed value moved to another credential does not open.
public struct CredentialVault: Sendable {
    private let key: VaultKey

    /// A vault over `key`.
    public init(key: VaultKey) { self.key = key }

    /// The id of the master key, stored with every credential it seals.
    public var keyID: String { key.id }

    /// `secret` sealed for the credential `name`: `v1.<key id>.<base64 of nonce ‖ ciphertext ‖ tag>`.
    public func seal(_ secret: String, name: String) throws(VaultError) -> String {
        do {
            let box = try AES.GCM.seal(Data(secret.utf8), using: key.key, authenticating: Data(name.utf8))
            guard let combined = box.combined else { throw VaultError.malformedSealed }
            return "v1.\(key.id).\(combined.base64EncodedString())"
        } catch {
            throw .malformedSealed
        }
    }

    /// The secret of credential `name`; `wrongKey` when it was sealed under another key,
    /// `tampered` when it does not authenticate (changed, or sealed for another name).
    public func open(_ sealed: String, name: String) throws(VaultError) -> String {
        let parts = sealed.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "v1", let combined = Data(base64Encoded: String(parts[2])) else {
            throw .malformedSealed
        }
        guard parts[1] == key.id else { throw .wrongKey(sealedWith: String(parts[1]), have: key.id) }
        guard let box = try? AES.GCM.SealedBox(combined: combined),
            let plain = try? AES.GCM.open(box, using: key.key, authenticating: Data(name.utf8)),
            let secret = String(data: plain, encoding: .utf8)
        else { throw .tampered(name: name) }
        return secret
    }
}

/// Why the vault refused; never containing a secret or a key.
public enum VaultError: Error, Equatable, CustomStringConvertible {
    case malformedKey
    case keyFileUnreadable(path: String)
    case keyFileTooOpen(path: String, mode: Int)
    case wrongKey(sealedWith: String, have: String)
    case tampered(name: String)
    case malformedSealed
    /// The server has no master key, so stored credentials can be neither sealed nor opened.
    case noKey

    public var description: String {
        switch self {
        case .malformedKey: "the vault key is not 'agentry-vault-key:v1:' followed by 32 bytes in base64"
        case .keyFileUnreadable(let path): "cannot read the vault key file \(path)"
        case .keyFileTooOpen(let path, let mode):
            "the vault key file \(path) has mode \(String(mode, radix: 8)); it must be readable by its owner only (chmod 600)"
        case .wrongKey(let sealedWith, let have):
            "the credential was sealed with vault key \(sealedWith), but this is key \(have)"
        case .tampered(let name): "credential \(name) does not authenticate: it was changed or belongs to another name"
        case .malformedSealed: "a sealed credential is malformed"
        case .noKey:
            "this server has no vault key: create one with 'agentry vault keygen --out FILE' and set vault.key_file"
        }
    }
}
