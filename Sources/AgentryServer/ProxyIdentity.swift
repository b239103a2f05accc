import Foundation
import NIOCore

/// Settings of the reverse-proxy identity mode: an SSO proxy in front of Agentry names the user in a header.
public struct ProxyIdentitySettings: Sendable, Equatable {
    /// Off unless explicitly enabled.
    public var enabled = false
    /// The header holding the user's email.
    public var emailHeader = "X-Forwarded-Email"
    /// The header holding the user's display name, used when the user is first seen.
    public var nameHeader = "X-Forwarded-User"
    /// Addresses (single IPs or CIDR ranges) the header is accepted from.
    public var trustedProxies: [AddressRange] = []
    /// Whether an unknown email becomes a new member on first sight.
    public var provisionUsers = true

    /// Creates the settings with the defaults above.
    public init() {}
}

/// An IPv4 or IPv6 address range in CIDR notation, e.g. `10.0.0.0/8` or `::1`.
public struct AddressRange: Sendable, Equatable, CustomStringConvertible {
    private let network: [UInt8]
    private let prefixLength: Int
    /// The range as written.
    public let description: String

    /// Parses `text`: an address, optionally followed by `/prefix`.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let bytes = Self.bytes(of: String(parts[0])) else { return nil }
        let length = parts.count == 2 ? Int(parts[1]) : bytes.count * 8
        guard let length, (0...(bytes.count * 8)).contains(length) else { return nil }
        self.network = bytes
        self.prefixLength = length
        self.description = text
    }

    /// Whether `address` lies in the range (an IPv4-mapped IPv6 address counts as IPv4).
    public func contains(_ address: SocketAddress) -> Bool {
        guard let text = address.ipAddress, var bytes = Self.bytes(of: text) else { return false }
        if bytes.count == 16, network.count == 4, bytes[0..<12] == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] {
            bytes = Array(bytes[12...])
        }
        guard bytes.count == network.count else { return false }
        for bit in 0..<prefixLength where (bytes[bit / 8] ^ network[bit / 8]) & (0x80 >> (bit % 8)) != 0 {
            return false
        }
        return true
    }

    private static func bytes(of text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
