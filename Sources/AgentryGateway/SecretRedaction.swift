/// Takes the credentials the gateways injected out of what an upstream sends back, before its
/// text reaches a caller, an error message or the audit log: an upstream that echoes the key it
/// was given ("Incorrect API key provided: sk-…") must not hand the org's credential to a user.
public enum SecretRedaction {
    /// What a secret is replaced with.
    public static let mask = "[redacted]"
    /// Secrets shorter than this are not searched for: they would match ordinary text.
    public static let lengthMin = 8

    /// The forms in which `secret` may come back: as sent, JSON-escaped (with and without `\/`),
    /// and percent-encoded.
    static func forms(of secret: String) -> [[UInt8]] {
        guard secret.utf8.count >= lengthMin else { return [] }
        var forms = [Array(secret.utf8)]
        let escaped = Array(JSONValue.string(secret).bytes.dropFirst().dropLast())
        if escaped != forms[0] { forms.append(escaped) }
        // Writers that escape "/" as "\/" (PHP's, some Java ones) send it this way too.
        let slashes = escaped.flatMap { $0 == UInt8(ascii: "/") ? Array(#"\/"#.utf8) : [$0] }
        if slashes != escaped { forms.append(slashes) }
        let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)
        let encoded = secret.utf8.flatMap { byte -> [UInt8] in
            unreserved.contains(byte)
                ? [byte] : Array("%\(String(byte, radix: 16, uppercase: true).leftPadded(2))".utf8)
        }
        if !encoded.elementsEqual(secret.utf8) { forms.append(encoded) }
        return forms
    }

    /// `bytes` with every occurrence of each secret, in each of its forms, replaced by `mask`.
    public static func redact(_ bytes: [UInt8], secrets: [String]) -> [UInt8] {
        var output = bytes
        for form in secrets.flatMap(forms(of:)) { output = replacing(form, in: output) }
        return output
    }

    /// `text` with every occurrence of each secret replaced by `mask`.
    public static func redact(_ text: String, secrets: [String]) -> String {
        let bytes = Array(text.utf8)
        let redacted = redact(bytes, secrets: secrets)
        return redacted == bytes ? text : String(decoding: redacted, as: UTF8.self)
    }

    /// `bytes` with each occurrence of `needle` replaced by `mask`, scanning left to right; the
    /// bytes themselves, uncopied, when there is none (the usual case).
    private static func replacing(_ needle: [UInt8], in bytes: [UInt8]) -> [UInt8] {
        guard let first = needle.first, bytes.count >= needle.count else { return bytes }
        var output: [UInt8]?
        var copied = 0
        var index = 0
        let last = bytes.count - needle.count
        while index <= last {
            if bytes[index] == first, bytes[index..<(index + needle.count)].elementsEqual(needle) {
                if output == nil {
                    output = Array(bytes[..<index])
                } else {
                    output?.append(contentsOf: bytes[copied..<index])
                }
                output?.append(contentsOf: mask.utf8)
                index += needle.count
                copied = index
            } else {
                index += 1
            }
        }
        guard var result = output else { return bytes }
        result.append(contentsOf: bytes[copied...])
        return result
    }
}

extension String {
    /// The string padded on the left with zeros to `width` characters.
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
