/// An amount of money in millionths of a US dollar. Integer only, overflow-checked: money in
/// Agentry is never floating point.
public struct Microdollars: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The amount in µ$.
    public let value: Int64

    /// Micro-dollars per dollar.
    public static let perDollar: Int64 = 1_000_000
    /// Zero.
    public static let zero = Microdollars(0)

    /// Wraps `value` µ$.
    public init(_ value: Int64) { self.value = value }

    /// Whole dollars, or nil on overflow.
    public init?(dollars: Int64) {
        let (product, overflow) = dollars.multipliedReportingOverflow(by: Self.perDollar)
        guard !overflow else { return nil }
        value = product
    }

    /// Parses a non-negative decimal dollar amount with at most six decimals (`50`, `0.12`,
    /// `1234.5`, `$7`); nil for anything else, including exponents, signs and overflow.
    public init?(parsing text: String) {
        var digits = Substring(text)
        if digits.first == "$" { digits = digits.dropFirst() }
        let parts = digits.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.allSatisfy(\.isASCIIDigit), whole.count <= 13
        else { return nil }
        var fraction = parts.count == 2 ? parts[1] : ""
        guard parts.count == 1 || !fraction.isEmpty, fraction.count <= 6, fraction.allSatisfy(\.isASCIIDigit) else {
            return nil
        }
        fraction += String(repeating: "0", count: 6 - fraction.count)
        guard let dollars = Int64(whole), let micros = Int64(fraction), let base = Microdollars(dollars: dollars) else {
            return nil
        }
        let (sum, overflow) = base.value.addingReportingOverflow(micros)
        guard !overflow else { return nil }
        value = sum
    }

    /// `self + other`, or `LedgerError.overflow`.
    public func adding(_ other: Microdollars) throws(LedgerError) -> Microdollars {
        let (sum, overflow) = value.addingReportingOverflow(other.value)
        guard !overflow else { throw .overflow }
        return Microdollars(sum)
    }

    /// `self - other`, or `LedgerError.overflow`.
    public func subtracting(_ other: Microdollars) throws(LedgerError) -> Microdollars {
        let (difference, overflow) = value.subtractingReportingOverflow(other.value)
        guard !overflow else { throw .overflow }
        return Microdollars(difference)
    }

    /// Dollars with two decimals, more when needed: `$50.00`, `$0.12`, `$0.000042`, `-$1.50`.
    public var description: String {
        let magnitude = value.magnitude
        let whole = magnitude / UInt64(Self.perDollar)
        var fraction = String(magnitude % UInt64(Self.perDollar))
        fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
        while fraction.count > 2, fraction.last == "0" { fraction.removeLast() }
        return (value < 0 ? "-$" : "$") + "\(whole).\(fraction)"
    }

    /// The amount in dollars without the sign of the currency: `50.00`, `0.000042`.
    public var decimalText: String { description.replacingOccurrences(of: "$", with: "") }

    public static func < (lhs: Microdollars, rhs: Microdollars) -> Bool { lhs.value < rhs.value }
}

extension Character {
    /// `0`–`9` only (not other Unicode digits).
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) && isASCII }
}
