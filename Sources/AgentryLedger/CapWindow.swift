import Foundation

/// A period spend is counted over: a run's whole life, a calendar day, a calendar month.
public enum CapWindow: String, CaseIterable, Comparable, Sendable {
    case run
    case day
    case month

    public static func < (lhs: CapWindow, rhs: CapWindow) -> Bool {
        lhs.order < rhs.order
    }

    /// Position in `allCases`.
    private var order: Int {
        switch self {
        case .run: 0
        case .day: 1
        case .month: 2
        }
    }
}

/// The calendar windows are counted in: days and months of one time zone (UTC unless configured).
/// A new window is a new account that starts at zero; no job has to run at midnight.
public struct LedgerCalendar: Sendable, Equatable {
    /// The zone whose midnights and month starts open new windows.
    public let timeZone: TimeZone
    /// The zone's name as configured (`UTC`, `Europe/Berlin`); Foundation may report another
    /// name for the same zone (`GMT` for `UTC`).
    public let zoneName: String
    private let calendar: Calendar

    /// A calendar in `timeZone`.
    public init(timeZone: TimeZone = TimeZone(identifier: "UTC")!, name: String? = nil) {
        self.timeZone = timeZone
        self.zoneName = name ?? (timeZone.identifier == "GMT" ? "UTC" : timeZone.identifier)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
    }

    /// Whether `other` counts days and months in the same zone, whatever it is called: the same
    /// zone, or two zones of UTC (`UTC`, `GMT`, `Etc/UTC`, …: offset 0, never a daylight-saving change).
    public func sameZone(as other: LedgerCalendar) -> Bool {
        timeZone.identifier == other.timeZone.identifier || (isUTC && other.isUTC)
    }

    /// Whether the zone is UTC under another name: offset 0 now and no daylight-saving change ahead.
    private var isUTC: Bool {
        timeZone.secondsFromGMT(for: Date()) == 0 && timeZone.nextDaylightSavingTimeTransition(after: Date()) == nil
    }

    /// Two calendars are equal when their zones are.
    public static func == (lhs: LedgerCalendar, rhs: LedgerCalendar) -> Bool { lhs.timeZone == rhs.timeZone }

    /// The calendar in the zone named `identifier` (`Europe/Berlin`), or nil for an unknown name.
    public init?(timeZoneIdentifier identifier: String) {
        guard let zone = TimeZone(identifier: identifier) else { return nil }
        self.init(timeZone: zone, name: identifier)
    }

    /// The start, in milliseconds since 1970, of the `window` containing `time`; 0 for `run`
    /// (a run has one window, its life).
    public func windowStart(_ window: CapWindow, containing time: Date) -> Int64 {
        let start: Date
        switch window {
        case .run: return 0
        case .day: start = calendar.startOfDay(for: time)
        case .month:
            let parts = calendar.dateComponents([.year, .month], from: time)
            start = calendar.date(from: parts) ?? calendar.startOfDay(for: time)
        }
        return Int64((start.timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// The accounts a reservation on `scopes` at `time` holds: each scope in each of its windows.
    public func accounts(for scopes: [LedgerScope], at time: Date) -> [AccountKey] {
        var starts: [CapWindow: Int64] = [:]
        return scopes.flatMap { scope in
            scope.windows.map { window in
                let start = starts[window] ?? windowStart(window, containing: time)
                starts[window] = start
                return AccountKey(scope: scope, window: window, windowStart: start)
            }
        }.sorted()
    }
}

/// One account: the spend of one scope in one window.
public struct AccountKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The scope.
    public let scope: LedgerScope
    /// The window kind.
    public let window: CapWindow
    /// Start of the window in milliseconds since 1970 (0 for `run`).
    public let windowStart: Int64

    /// Creates a key.
    public init(scope: LedgerScope, window: CapWindow, windowStart: Int64) {
        self.scope = scope
        self.window = window
        self.windowStart = windowStart
    }

    /// The cap that applies to this account, if one is set.
    public var capKey: CapKey { CapKey(scope: scope, window: window) }

    /// `scope/window@start`.
    public var description: String { "\(scope)/\(window.rawValue)@\(windowStart)" }

    /// Accounts are locked in this order by every transaction, so two never wait on each other.
    public static func < (lhs: AccountKey, rhs: AccountKey) -> Bool {
        (lhs.scope, lhs.window, lhs.windowStart) < (rhs.scope, rhs.window, rhs.windowStart)
    }
}

/// Which cap: a scope and a window.
public struct CapKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The scope.
    public let scope: LedgerScope
    /// The window.
    public let window: CapWindow

    /// Creates a key.
    public init(scope: LedgerScope, window: CapWindow) {
        self.scope = scope
        self.window = window
    }

    /// `scope/window`.
    public var description: String { "\(scope)/\(window.rawValue)" }

    public static func < (lhs: CapKey, rhs: CapKey) -> Bool {
        (lhs.scope, lhs.window) < (rhs.scope, rhs.window)
    }
}
