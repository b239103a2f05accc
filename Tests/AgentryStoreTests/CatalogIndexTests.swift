import AgentryIdentity
import AgentryStore
import Foundation
import Testing

@Suite("Catalog index")
struct CatalogIndexTests {
    static func entry(
        _ name: String, title: String = "Helper", description: String = "does things", department: String = "Finance",
        tags: [String] = [], skills: [String] = [], tools: [String] = [], state: StoredAgent.State = .active
    ) -> CatalogEntry {
        CatalogEntry(
            agentID: "agn_\(name)", name: name, title: title, description: description, department: department,
            tags: tags, skills: skills, tools: tools, models: ["m"], ownerID: "usr_1", teamID: nil, version: "1.0.0",
            kind: "declarative", dataClassification: "internal", state: state,
            publishedAt: Date(timeIntervalSince1970: 0))
    }

    static func names(_ index: CatalogIndex, _ text: String?, limit: Int = 100) -> [String] {
        index.search(CatalogQuery(text: text, limit: limit)).entries.map(\.name)
    }

    @Test("every word must match as a prefix; a name outranks a title, a title the description; ties by name")
    func ranking() {
        let index = CatalogIndex([
            Self.entry("zeta", description: "summarizes expense reports"),
            Self.entry("alpha", description: "summarizes expense reports"),
            Self.entry("expense-bot", description: "files reports"),
            Self.entry("other", title: "Expense summarizer", description: "reports"),
            Self.entry("unrelated", description: "translates"),
        ])
        #expect(Self.names(index, "expense") == ["expense-bot", "other", "alpha", "zeta"])
        #expect(Self.names(index, "summ exp") == ["other", "alpha", "zeta"])
        #expect(Self.names(index, "expense translates").isEmpty)
        #expect(Self.names(index, "nothing-like-it").isEmpty)
        #expect(Self.names(index, nil) == ["alpha", "expense-bot", "other", "unrelated", "zeta"])
    }

    @Test("a whole word outranks a word it only begins")
    func exactBeatsPrefix() {
        let index = CatalogIndex([
            Self.entry("a", description: "reporting"), Self.entry("b", description: "report"),
        ])
        #expect(Self.names(index, "report") == ["b", "a"])
    }

    @Test("accents are kept; decomposed and composed text are one word; case never matters")
    func text() {
        let index = CatalogIndex([
            Self.entry("menu", description: "Plans the Caf\u{E9} MENU"), Self.entry("plain", description: "cafe"),
        ])
        #expect(Self.names(index, "café") == ["menu"])
        #expect(Self.names(index, "Cafe\u{301}") == ["menu"])
        #expect(Self.names(index, "cafe") == ["plain"])
        #expect(Self.names(index, "menu") == ["menu"])
        #expect(CatalogText.words("Ticket-Triage v2, émoji🙂ok") == ["ticket", "triage", "v2", "émoji", "ok"])
        #expect(CatalogText.words(String(repeating: "a", count: 100)).first?.count == CatalogText.wordCharactersMax)
    }

    @Test("filters: department in any case, tool, tag, suspended only on request; unknown values find nothing")
    func filters() {
        let index = CatalogIndex([
            Self.entry("a", department: "Finance", tags: ["t1"], tools: ["slack"]),
            Self.entry("b", department: "finance", tools: ["drive", "slack"]),
            Self.entry("c", department: "Support", tags: ["t1"]),
            Self.entry("d", department: "Support", state: .suspended),
        ])
        func find(_ query: CatalogQuery) -> [String] { index.search(query).entries.map(\.name) }
        #expect(find(CatalogQuery(text: nil, department: "FINANCE")) == ["a", "b"])
        #expect(find(CatalogQuery(text: nil, tool: "slack")) == ["a", "b"])
        #expect(find(CatalogQuery(text: nil, tag: "t1")) == ["a", "c"])
        #expect(find(CatalogQuery(text: nil, department: "support")) == ["c"])
        #expect(find(CatalogQuery(text: nil, department: "support", includeSuspended: true)) == ["c", "d"])
        #expect(find(CatalogQuery(text: nil, department: "Legal")).isEmpty)
        #expect(find(CatalogQuery(text: nil, tool: "SLACK")).isEmpty)
        #expect(find(CatalogQuery(text: nil, tag: "nope")).isEmpty)
        let page = index.search(CatalogQuery(text: nil))
        #expect(page.total == 3)
        #expect(page.departments.map(\.value) == ["Finance", "Support", "finance"])
        #expect(page.tools == [FacetCount(value: "slack", count: 2), FacetCount(value: "drive", count: 1)])
    }

    @Test("pages: offset and limit over the ranked matches, with the total of all")
    func pages() {
        let index = CatalogIndex((0..<50).map { Self.entry(String(format: "agent-%02d", $0), description: "common") })
        for text in [nil, "common"] {
            let page = index.search(CatalogQuery(text: text, limit: 20, offset: 40))
            #expect(page.total == 50)
            #expect(page.entries.map(\.name) == (40..<50).map { String(format: "agent-%02d", $0) })
            #expect(index.search(CatalogQuery(text: text, limit: 20, offset: 60)).entries.isEmpty)
        }
    }

    @Test("a changed entry is searched by its new words only; a state change keeps its place; many changes compact")
    func changes() {
        var index = CatalogIndex([Self.entry("a", description: "old words"), Self.entry("b", description: "old")])
        index.apply([Self.entry("a", description: "new words")])
        #expect(Self.names(index, "old") == ["b"])
        #expect(Self.names(index, "new") == ["a"])
        #expect(index.count == 2)
        index.apply([Self.entry("b", description: "old", state: .suspended)])
        #expect(Self.names(index, "old").isEmpty)
        for round in 0..<3000 {
            index.apply([Self.entry("a", description: "round\(round)")])
        }
        #expect(index.count == 2)
        #expect(Self.names(index, "round2999") == ["a"])
        #expect(Self.names(index, "round2998").isEmpty)
        #expect(index.search(CatalogQuery(text: "round")).total == 1)
    }

    @Test("against a plain scan: the same matches, totals and facets for random entries and queries")
    func modelCheck() {
        var random = SeededRandom(seed: 7)
        let vocabulary = ["ledger", "legal", "leg", "report", "reporting", "slack", "sum", "summary", "zeta", "été"]
        func text(_ count: Int) -> String {
            (0..<count).map { _ in vocabulary[Int(random.next() % UInt64(vocabulary.count))] }.joined(separator: " ")
        }
        var entries: [CatalogEntry] = []
        for number in 0..<400 {
            entries.append(
                Self.entry(
                    "agent-\(number)", title: text(2), description: text(5),
                    department: ["Finance", "Support", "Legal"][Int(random.next() % 3)],
                    tags: [text(1)], skills: [text(3)],
                    tools: Array(Set(["slack", "drive", "hubspot"].filter { _ in random.next() % 2 == 0 })).sorted(),
                    state: random.next() % 10 == 0 ? .suspended : .active))
        }
        var index = CatalogIndex(entries)
        // Rewrite a quarter of them, as republications would.
        for number in stride(from: 0, to: 400, by: 4) {
            let old = entries[number]
            entries[number] = Self.entry(
                old.name, title: text(2), description: text(5), department: old.department, tags: old.tags,
                skills: [text(3)], tools: old.tools, state: old.state)
            index.apply([entries[number]])
        }
        for _ in 0..<300 {
            let words = (0..<Int(1 + random.next() % 3)).map { _ in
                let word = vocabulary[Int(random.next() % UInt64(vocabulary.count))]
                return String(word.prefix(Int(1 + random.next() % UInt64(word.count))))
            }
            let query = CatalogQuery(
                text: words.joined(separator: " "), department: random.next() % 3 == 0 ? "finance" : nil,
                tool: random.next() % 4 == 0 ? "slack" : nil, limit: 100_000)
            let expected = entries.filter { entry in
                let all =
                    ([entry.name, entry.title, entry.description, entry.department] + entry.tags + entry.skills
                    + entry.tools).flatMap(CatalogText.words)
                return entry.state != .suspended
                    && query.words.allSatisfy { word in all.contains { $0.hasPrefix(word) } }
                    && (query.department.map { $0.lowercased() == entry.department.lowercased() } ?? true)
                    && (query.tool.map(entry.tools.contains) ?? true)
            }
            let page = index.search(query)
            #expect(Set(page.entries.map(\.name)) == Set(expected.map(\.name)), "\(query.words)")
            #expect(page.total == expected.count)
            let departments = Dictionary(grouping: expected, by: \.department).mapValues(\.count)
            #expect(Dictionary(uniqueKeysWithValues: page.departments.map { ($0.value, $0.count) }) == departments)
            let tools = Dictionary(grouping: expected.flatMap(\.tools), by: { $0 }).mapValues(\.count)
            #expect(Dictionary(uniqueKeysWithValues: page.tools.map { ($0.value, $0.count) }) == tools)
        }
    }
}

/// A small deterministic generator (SplitMix64), so a failing case can be replayed.
struct SeededRandom {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
