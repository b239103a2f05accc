import AgentryLedger
import Foundation
import Testing

/// Money, scopes and calendar windows.
@Suite("Ledger values")
struct MoneyAndScopeTests {
    @Test(arguments: [
        ("50", 50_000_000), ("0.12", 120_000), ("$7", 7_000_000), ("1234.5", 1_234_500_000), ("0.000001", 1),
        ("0", 0),
    ])
    func dollarAmountsParseExactly(_ text: String, _ micros: Int64) {
        #expect(Microdollars(parsing: text) == Microdollars(micros))
    }

    @Test(arguments: ["", "-1", "1e3", "0.0000001", "1.", ".5", "abc", "1,5", "12345678901234", "١٢", "+3", " 1", "$"])
    func nonsenseAmountsAreRefused(_ text: String) {
        #expect(Microdollars(parsing: text) == nil)
    }

    @Test func amountsPrintAsDollarsAndOverflowIsCaught() throws {
        #expect(Microdollars(50_000_000).description == "$50.00")
        #expect(Microdollars(120_000).description == "$0.12")
        #expect(Microdollars(42).description == "$0.000042")
        #expect(Microdollars(-1_500_000).description == "-$1.50")
        #expect(throws: LedgerError.overflow) { try Microdollars(.max).adding(Microdollars(1)) }
        #expect(throws: LedgerError.overflow) { try Microdollars(.min).subtracting(Microdollars(1)) }
        #expect(Microdollars(dollars: .max) == nil)
    }

    @Test func scopesParseAndPrint() throws {
        for text in ["org", "team:finance", "user:usr_1", "agent:a-1", "version:a-1@1.2.0", "run:run_9"] {
            #expect(try LedgerScope(parsing: text).description == text)
        }
        for bad in [
            "", "team", "team:", "galaxy:x", "org:x", "team:has space", "team:\(String(repeating: "a", count: 101))",
        ] {
            #expect(throws: LedgerError.self, "\(bad)") { try LedgerScope(parsing: bad) }
        }
        #expect(try LedgerScope(parsing: "run:r").windows == [.run])
        #expect(LedgerScope.org.windows == [.day, .month])
    }

    @Test func zonesAreComparedAsZonesNotNames() throws {
        let utc = try #require(LedgerCalendar(timeZoneIdentifier: "UTC"))
        for alias in ["GMT", "Etc/UTC", "Etc/GMT", "Zulu"] {
            #expect(utc.sameZone(as: try #require(LedgerCalendar(timeZoneIdentifier: alias))), "\(alias)")
        }
        #expect(utc.zoneName == "UTC" && LedgerCalendar().zoneName == "UTC")
        let berlin = try #require(LedgerCalendar(timeZoneIdentifier: "Europe/Berlin"))
        let london = try #require(LedgerCalendar(timeZoneIdentifier: "Europe/London"))
        #expect(!utc.sameZone(as: berlin) && !utc.sameZone(as: london) && !berlin.sameZone(as: london))
        #expect(berlin.sameZone(as: berlin))
    }

    @Test func windowsFollowTheZoneThroughDaylightSavingAndLeapDays() throws {
        let berlin = try #require(LedgerCalendar(timeZoneIdentifier: "Europe/Berlin"))
        // 2026-03-29 is 23 hours long in Berlin: 00:00 CET = 2026-03-28T23:00Z, next midnight 22:00Z.
        let noon = Date(timeIntervalSince1970: 1_774_785_600)  // 2026-03-29T12:00Z
        #expect(berlin.windowStart(.day, containing: noon) == 1_774_738_800_000)
        #expect(berlin.windowStart(.day, containing: noon.addingTimeInterval(11 * 3600)) == 1_774_821_600_000)
        #expect(berlin.windowStart(.month, containing: noon) == 1_772_319_600_000)
        // 2028-02-29 exists: the last day of February 2028 starts at 2028-02-28T23:00Z.
        #expect(berlin.windowStart(.day, containing: Date(timeIntervalSince1970: 1_835_434_800)) == 1_835_391_600_000)
        #expect(berlin.windowStart(.month, containing: Date(timeIntervalSince1970: 1_835_434_800)) == 1_832_972_400_000)
        let utc = LedgerCalendar()
        #expect(utc.windowStart(.day, containing: noon) == 1_774_742_400_000)
        #expect(utc.windowStart(.run, containing: noon) == 0)
        #expect(LedgerCalendar(timeZoneIdentifier: "Mars/Olympus") == nil)
        let keys = utc.accounts(for: [try LedgerScope(parsing: "team:t"), try LedgerScope(parsing: "run:r")], at: noon)
        #expect(keys.map(\.description) == ["run:r/run@0", "team:t/day@1774742400000", "team:t/month@1772323200000"])
    }
}
