/// How sensitive the data a call carries may be, from the least to the most.
public enum DataClassification: String, CaseIterable, Comparable, Sendable {
    case `public`
    case `internal`
    case confidential
    case restricted

    public static func < (lhs: DataClassification, rhs: DataClassification) -> Bool { lhs.rank < rhs.rank }

    /// Position from the least to the most sensitive.
    private var rank: Int {
        switch self {
        case .public: 0
        case .internal: 1
        case .confidential: 2
        case .restricted: 3
        }
    }
}
