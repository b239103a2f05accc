import Foundation

/// A strict RFC 8259 syntax check that reports where the first error is, before any decoding happens.
///
/// Foundation's decoder says *that* a body is malformed; clients need to know *where*. This scanner
/// walks the bytes once, tracks line and column, bounds nesting depth, and refuses duplicate keys
/// in an object (RFC 8259 §4 leaves them undefined; two parsers reading one body differently is how
/// checks get bypassed).
public struct JSONSyntax {
    /// The first syntax error: what is wrong and its 1-based line and column.
    public struct Failure: Error, Equatable {
        public let reason: String
        public let line: Int
        public let column: Int
        /// "unexpected 'x' at line 1, column 5".
        public var description: String { "\(reason) at line \(line), column \(column)" }
    }

    private let bytes: [UInt8]
    private let depthMax: Int
    private var index = 0
    private var line = 1
    private var lineStart = 0

    /// Checks that `bytes` hold exactly one JSON value (with optional surrounding whitespace).
    public static func check(_ bytes: [UInt8], depthMax: Int) throws(Failure) {
        var scanner = JSONSyntax(bytes: bytes, depthMax: depthMax)
        scanner.skipWhitespace()
        try scanner.value(depth: 0)
        scanner.skipWhitespace()
        guard scanner.index == bytes.count else { throw scanner.failure("unexpected data after the JSON value") }
    }

    private init(bytes: [UInt8], depthMax: Int) {
        self.bytes = bytes
        self.depthMax = depthMax
    }

    private func failure(_ reason: String) -> Failure {
        Failure(reason: reason, line: line, column: index - lineStart + 1)
    }

    private func unexpected() -> Failure {
        guard index < bytes.count else { return failure("unexpected end of input") }
        let byte = bytes[index]
        let shown =
            (0x20..<0x7F).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
        return failure("unexpected \(shown)")
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0D: index += 1
            case 0x0A:
                index += 1
                line += 1
                lineStart = index
            default: return
            }
        }
    }

    private mutating func value(depth: Int) throws(Failure) {
        guard index < bytes.count else { throw unexpected() }
        switch bytes[index] {
        case UInt8(ascii: "{"): try container(depth: depth + 1, close: UInt8(ascii: "}"), keyed: true)
        case UInt8(ascii: "["): try container(depth: depth + 1, close: UInt8(ascii: "]"), keyed: false)
        case UInt8(ascii: "\""): try string()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
        default: throw unexpected()
        }
    }

    private mutating func container(depth: Int, close: UInt8, keyed: Bool) throws(Failure) {
        guard depth <= depthMax else { throw failure("nesting deeper than \(depthMax) levels") }
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == close {
            index += 1
            return
        }
        var keys: Set<ArraySlice<UInt8>> = []
        while true {
            if keyed {
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw unexpected() }
                let keyStart = index
                try string()
                let key = Self.unescaped(bytes[keyStart..<index])
                guard keys.insert(key).inserted else {
                    index = keyStart
                    throw failure("duplicate key \"\(String(decoding: key, as: UTF8.self))\"")
                }
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw unexpected() }
                index += 1
                skipWhitespace()
            }
            try value(depth: depth)
            skipWhitespace()
            guard index < bytes.count else { throw unexpected() }
            if bytes[index] == close {
                index += 1
                return
            }
            guard bytes[index] == UInt8(ascii: ",") else { throw unexpected() }
            index += 1
            skipWhitespace()
        }
    }

    private mutating func string() throws(Failure) {
        index += 1
        // A high surrogate escape (\uD800–\uDBFF) waiting for its low half, by where it began.
        var pendingHigh: (line: Int, column: Int)?
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                if let pendingHigh { throw Self.unpairedSurrogate(at: pendingHigh) }
                index += 1
                return
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw unexpected() }
                if bytes[index] == UInt8(ascii: "u") {
                    let start = (line: line, column: index - lineStart)
                    var unit: UInt32 = 0
                    for _ in 0..<4 {
                        index += 1
                        guard index < bytes.count, Self.isHexDigit(bytes[index]) else {
                            throw failure("invalid \\u escape")
                        }
                        unit = unit << 4 + UInt32(Self.hexValue(bytes[index]))
                    }
                    switch unit {
                    case 0xD800...0xDBFF:
                        if let pendingHigh { throw Self.unpairedSurrogate(at: pendingHigh) }
                        pendingHigh = start
                    case 0xDC00...0xDFFF:
                        guard pendingHigh != nil else { throw Self.unpairedSurrogate(at: start) }
                        pendingHigh = nil
                    default:
                        if let pendingHigh { throw Self.unpairedSurrogate(at: pendingHigh) }
                    }
                } else if !"\"\\/bfnrt".utf8.contains(bytes[index]) {
                    throw failure("invalid escape")
                } else if let pendingHigh {
                    throw Self.unpairedSurrogate(at: pendingHigh)
                }
                index += 1
            case 0x00..<0x20: throw failure("control character in string")
            default:
                if let pendingHigh { throw Self.unpairedSurrogate(at: pendingHigh) }
                index += 1
            }
        }
        throw failure("unterminated string")
    }

    /// A `\uD800`–`\uDFFF` escape without its other half: it is not a Unicode character.
    private static func unpairedSurrogate(at position: (line: Int, column: Int)) -> Failure {
        Failure(
            reason: "unpaired surrogate escape (\\uD800–\\uDFFF stand for no character alone)",
            line: position.line, column: position.column)
    }

    /// A key's bytes with escapes resolved, so `"name"` and `"n\u0061me"` count as the same key.
    private static func unescaped(_ quoted: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let inner = quoted.dropFirst().dropLast()
        guard inner.contains(UInt8(ascii: "\\")),
            let text = try? JSONDecoder().decode(String.self, from: Data(quoted))
        else { return inner }
        return ArraySlice(text.utf8)
    }

    private mutating func literal(_ word: String) throws(Failure) {
        for expected in word.utf8 {
            guard index < bytes.count, bytes[index] == expected else { throw unexpected() }
            index += 1
        }
    }

    private mutating func number() throws(Failure) {
        let start = index
        let column = index - lineStart + 1
        try numberSyntax()
        if let value = Double(String(decoding: bytes[start..<index], as: UTF8.self)), !value.isFinite {
            throw Failure(reason: "number out of range", line: line, column: column)
        }
    }

    private mutating func numberSyntax() throws(Failure) {
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, Self.isDigit(bytes[index]) else { throw unexpected() }
        if bytes[index] == UInt8(ascii: "0") { index += 1 } else { skipDigits() }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, Self.isDigit(bytes[index]) else { throw unexpected() }
            skipDigits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard index < bytes.count, Self.isDigit(bytes[index]) else { throw unexpected() }
            skipDigits()
        }
    }

    private mutating func skipDigits() {
        while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    private static func hexValue(_ byte: UInt8) -> UInt8 {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: byte - UInt8(ascii: "A") + 10
        }
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }
}
