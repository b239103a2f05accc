import AgentryIdentity
import Foundation

/// How Catalog text becomes words, the same for entries and queries: NFC, lowercased, split on
/// anything that is not a letter or a digit; accents are kept (`café` is not `cafe`).
public enum CatalogText {
    /// The longest word kept; longer ones are cut.
    public static let wordCharactersMax = 64

    /// The words of `text`, in order, repeats kept.
    public static func words(_ text: String) -> [Substring] {
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            // ASCII: the same rule over bytes, without building Characters.
            let lowered = String(decoding: text.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
            return lowered.utf8.split { !(($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57)) }.map {
                Substring($0.prefix(wordCharactersMax))
            }
        }
        return text.precomposedStringWithCanonicalMapping.lowercased().split { !($0.isLetter || $0.isNumber) }.map {
            $0.prefix(wordCharactersMax)
        }
    }
}

/// The Catalog in memory, searched without a database round trip (decision 0011): every entry
/// by slot, an inverted index from each word to the slots that contain it (with a weight for
/// where), and each slot's department, tools and tags as small integers for filters and facets.
/// A changed entry's old slot is retired and a new one appended; retired slots are dropped when
/// they outnumber half the live ones.
public struct CatalogIndex: Sendable {
    /// How much a word counts where it is found: a name outranks a title, which outranks tags,
    /// tools and department, then skills, then the description.
    enum Field: UInt32 {
        case description = 1
        case skills = 2
        case label = 3
        case title = 6
        case name = 10
    }

    private var entries: [CatalogEntry] = []
    /// Per slot: `retiredFlag` once a newer slot holds its agent, `suspendedFlag` while suspended.
    private var flags: [UInt8] = []
    private var slotOfAgent: [String: Int32] = [:]
    /// Every word of every slot, sorted by their UTF-8 bytes (so a prefix's words are adjacent),
    /// with their postings: `slot << 8 | weight`.
    private var terms: [String] = []
    private var postings: [[UInt32]] = []
    /// Per slot: its department, and its tools and tags as runs of a flat list.
    private var department: [Int32] = []
    private var tools = Runs()
    private var tags = Runs()
    private var departments = Labels()
    private var toolLabels = Labels()
    private var tagLabels = Labels()
    /// Live slots by name, and each slot's place in that order (the tie-break of every ranking).
    private var byName: [Int32] = []
    private var nameRank: [Int32] = []
    /// The counts of browsing everything, without and with suspended entries, kept per change.
    private var browsing = (visible: FacetCounts(departments: 0, tools: 0), all: FacetCounts(departments: 0, tools: 0))
    private var retired = 0

    private static let retiredFlag: UInt8 = 1
    private static let suspendedFlag: UInt8 = 2

    /// The most entries an index holds (a slot has 24 bits in a posting).
    public static let slotsMax = 1 << 24

    /// An empty index.
    public init() {}

    /// An index of `entries`.
    public init(_ entries: [CatalogEntry]) {
        apply(entries)
    }

    /// How many entries the index holds.
    public var count: Int { byName.count }

    /// Adds `changed` entries, each in place of the agent's previous one.
    public mutating func apply(_ changed: [CatalogEntry]) {
        guard !changed.isEmpty else { return }
        var reordered = false
        var added: [String: [UInt32]] = [:]
        for entry in changed {
            if let slot = slotOfAgent[entry.agentID].map(Int.init) {
                if Self.sameText(entries[slot], entry) {
                    // State, owner or version: nothing searched changed.
                    entries[slot] = entry
                    flags[slot] = entry.state == .suspended ? Self.suspendedFlag : 0
                    continue
                }
                flags[slot] = Self.retiredFlag
                retired += 1
            }
            append(entry, postings: &added)
            reordered = true
        }
        merge(added)
        if retired > 1024 && retired > byName.count / 2 {
            self = CatalogIndex(entries.indices.filter { flags[$0] & Self.retiredFlag == 0 }.map { entries[$0] })
            return
        }
        if reordered { orderByName() }
        countBrowsing()
    }

    /// The page `query` asks for, the total that match, and their department and tool facets.
    public func search(_ query: CatalogQuery) -> CatalogPage {
        guard let filter = Filter(query, index: self) else {
            return CatalogPage(entries: [], total: 0, departments: [], tools: [])
        }
        let hidden = query.includeSuspended ? Self.retiredFlag : Self.retiredFlag | Self.suspendedFlag
        let window = query.offset..<(query.offset + query.limit)
        var counts = FacetCounts(departments: departments.count, tools: toolLabels.count)
        var best = Best(capacity: window.upperBound)
        if query.words.isEmpty && filter.isEmpty {
            // Everything, by name: the counts are kept, the page is the window of the name order.
            counts = query.includeSuspended ? browsing.all : browsing.visible
            var page: [CatalogEntry] = []
            var seen = 0
            for slot in byName where flags[Int(slot)] & hidden == 0 {
                if seen >= window.upperBound { break }
                if seen >= window.lowerBound { page.append(entries[Int(slot)]) }
                seen += 1
            }
            return self.page(page, counts)
        }
        if query.words.isEmpty {
            // Only the filters' own lists are walked: a department's, a tool's or a tag's slots.
            filter.candidates(in: self) { slot in
                guard flags[slot] & hidden == 0, filter.admits(slot, in: self) else { return }
                counts.add(slot, in: self)
                best.insert(UInt64(UInt32(nameRank[slot])))
            }
        } else {
            guard let (hits, score) = score(query.words) else { return page([], counts) }
            for slot in hits.lazy.map(Int.init) where flags[slot] & hidden == 0 && filter.admits(slot, in: self) {
                counts.add(slot, in: self)
                // Highest score first, then by name: a smaller key ranks higher.
                best.insert(UInt64(UInt32.max - score[slot]) << 32 | UInt64(UInt32(nameRank[slot])))
            }
        }
        let ranked = best.sorted()
        let page =
            ranked.count > query.offset
            ? ranked[query.offset...].map { entries[Int(byName[Int(UInt32(truncatingIfNeeded: $0))])] } : []
        return self.page(page, counts)
    }

    private func page(_ entries: [CatalogEntry], _ counts: FacetCounts) -> CatalogPage {
        CatalogPage(
            entries: entries, total: counts.total, departments: counts.top(counts.departments, departments.values),
            tools: counts.top(counts.tools, toolLabels.values))
    }

    /// The slots that hold every word (each as a prefix), and every slot's score; nil when a word
    /// is found nowhere.
    private func score(_ words: [String]) -> (hits: [Int32], score: [UInt32])? {
        var marks = [UInt8](repeating: 0, count: entries.count)
        var score = [UInt32](repeating: 0, count: entries.count)
        var hits: [Int32] = []
        let last = UInt8(words.count - 1)
        for (number, word) in words.enumerated() {
            let before = UInt8(number)
            let range = prefixRange(word)
            guard !range.isEmpty else { return nil }
            for term in range {
                let exact: UInt32 = terms[term].utf8.count == word.utf8.count ? 2 : 1
                for posting in postings[term] {
                    let slot = Int(posting >> 8)
                    if marks[slot] == before {
                        marks[slot] = before + 1
                        if before == last { hits.append(Int32(slot)) }
                    } else if marks[slot] != before + 1 {
                        continue
                    }
                    score[slot] += (posting & 0xFF) * exact
                }
            }
        }
        return (hits, score)
    }

    /// The indexes of `terms` that start with `prefix`.
    private func prefixRange(_ prefix: String) -> Range<Int> {
        let start = lowerBound(prefix)
        var end = start
        while end < terms.count && terms[end].utf8.starts(with: prefix.utf8) { end += 1 }
        return start..<end
    }

    /// The first index of `terms` not before `word`.
    private func lowerBound(_ word: String) -> Int {
        var (low, high) = (0, terms.count)
        while low < high {
            let middle = (low + high) / 2
            if terms[middle].utf8.lexicographicallyPrecedes(word.utf8) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Adds `entry` in a new slot, its postings to `added`.
    private mutating func append(_ entry: CatalogEntry, postings added: inout [String: [UInt32]]) {
        precondition(entries.count < Self.slotsMax, "the Catalog index holds at most \(Self.slotsMax) slots")
        let slot = Int32(entries.count)
        entries.append(entry)
        flags.append(entry.state == .suspended ? Self.suspendedFlag : 0)
        slotOfAgent[entry.agentID] = slot
        department.append(departments.id(entry.department, slot: slot))
        var seen = Set<String>()
        tools.append(entry.tools.filter { seen.insert($0).inserted }.map { toolLabels.id($0, slot: slot) })
        seen = []
        tags.append(entry.tags.filter { seen.insert($0).inserted }.map { tagLabels.id($0, slot: slot) })
        nameRank.append(0)
        var weights: [Substring: UInt32] = [:]
        let fields: [(Field, [String])] = [
            (.name, [entry.name]), (.title, [entry.title]), (.label, entry.tags + entry.tools + [entry.department]),
            (.skills, entry.skills), (.description, [entry.description]),
        ]
        for (field, texts) in fields {
            for text in texts {
                for word in CatalogText.words(text) { weights[word, default: 0] += field.rawValue }
            }
        }
        for (word, weight) in weights { added[String(word), default: []].append(UInt32(slot) << 8 | min(weight, 0xFF)) }
    }

    /// Adds new postings to the terms: in place for a few new terms, by sorting them all for many.
    private mutating func merge(_ added: [String: [UInt32]]) {
        if added.count > 256 {
            var all = Dictionary(uniqueKeysWithValues: zip(terms, postings))
            for (term, slots) in added { all[term, default: []].append(contentsOf: slots) }
            terms = all.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            postings = terms.map { all[$0]! }
            return
        }
        for (term, slots) in added {
            let index = lowerBound(term)
            if index == terms.count || terms[index] != term {
                terms.insert(term, at: index)
                postings.insert(slots, at: index)
            } else {
                postings[index].append(contentsOf: slots)
            }
        }
    }

    private mutating func countBrowsing() {
        var visible = FacetCounts(departments: departments.count, tools: toolLabels.count)
        var all = visible
        for slot in byName.lazy.map(Int.init) {
            all.add(slot, in: self)
            if flags[slot] == 0 { visible.add(slot, in: self) }
        }
        browsing = (visible, all)
    }

    private mutating func orderByName() {
        byName = entries.indices.filter { flags[$0] & Self.retiredFlag == 0 }.map(Int32.init).sorted {
            entries[Int($0)].name.utf8.lexicographicallyPrecedes(entries[Int($1)].name.utf8)
        }
        for (rank, slot) in byName.enumerated() { nameRank[Int(slot)] = Int32(rank) }
    }

    /// Whether two versions of an entry are searched alike (so the newer can take the older's slot).
    private static func sameText(_ old: CatalogEntry, _ new: CatalogEntry) -> Bool {
        old.name == new.name && old.title == new.title && old.description == new.description
            && old.department == new.department && old.tags == new.tags && old.skills == new.skills
            && old.tools == new.tools
    }

    /// Distinct values (departments, tools, tags) numbered in order of first sight, each with
    /// the slots that have it (retired ones too).
    private struct Labels: Sendable {
        var values: [String] = []
        var ids: [String: Int32] = [:]
        var slots: [[Int32]] = []
        var count: Int { values.count }

        /// The id of `value`, noting that `slot` has it.
        mutating func id(_ value: String, slot: Int32) -> Int32 {
            let id: Int32
            if let known = ids[value] {
                id = known
            } else {
                id = Int32(values.count)
                values.append(value)
                ids[value] = id
                slots.append([])
            }
            slots[Int(id)].append(slot)
            return id
        }
    }

    /// Small lists per slot (its tools, its tags) as runs of one flat list.
    private struct Runs: Sendable {
        var starts: [Int32] = [0]
        var flat: [Int32] = []

        mutating func append(_ run: [Int32]) {
            flat.append(contentsOf: run)
            starts.append(Int32(flat.count))
        }

        /// The run of `slot`.
        subscript(slot: Int) -> ArraySlice<Int32> { flat[Int(starts[slot])..<Int(starts[slot + 1])] }
    }

    /// A query's filters as label ids; nil when a filter names a value no entry has.
    private struct Filter {
        /// Per department id, whether it is wanted (nil: all are).
        let departments: [Bool]?
        let departmentIDs: [Int32]
        let tool: Int32?
        let tag: Int32?

        var isEmpty: Bool { departments == nil && tool == nil && tag == nil }

        init?(_ query: CatalogQuery, index: CatalogIndex) {
            if let wanted = query.department?.lowercased() {
                let values = index.departments.values
                departmentIDs = values.indices.filter { values[$0].lowercased() == wanted }.map(Int32.init)
                guard !departmentIDs.isEmpty else { return nil }
                var marks = [Bool](repeating: false, count: values.count)
                for id in departmentIDs { marks[Int(id)] = true }
                departments = marks
            } else {
                (departments, departmentIDs) = (nil, [])
            }
            if let name = query.tool {
                guard let id = index.toolLabels.ids[name] else { return nil }
                tool = id
            } else {
                tool = nil
            }
            if let name = query.tag {
                guard let id = index.tagLabels.ids[name] else { return nil }
                tag = id
            } else {
                tag = nil
            }
        }

        func admits(_ slot: Int, in index: CatalogIndex) -> Bool {
            if let departments, !departments[Int(index.department[slot])] { return false }
            if let tool, !index.tools[slot].contains(tool) { return false }
            if let tag, !index.tags[slot].contains(tag) { return false }
            return true
        }

        /// Calls `body` with every slot of the shortest list a filter names (not empty).
        func candidates(in index: CatalogIndex, _ body: (Int) -> Void) {
            var lists: [[[Int32]]] = []
            if !departmentIDs.isEmpty { lists.append(departmentIDs.map { index.departments.slots[Int($0)] }) }
            if let tool { lists.append([index.toolLabels.slots[Int(tool)]]) }
            if let tag { lists.append([index.tagLabels.slots[Int(tag)]]) }
            guard let shortest = lists.min(by: { $0.reduce(0) { $0 + $1.count } < $1.reduce(0) { $0 + $1.count } })
            else { return }
            for list in shortest {
                for slot in list { body(Int(slot)) }
            }
        }
    }

    /// The total and the department and tool counts of the matching slots.
    private struct FacetCounts: Sendable {
        var total = 0
        var departments: [Int]
        var tools: [Int]

        init(departments: Int, tools: Int) {
            self.departments = Array(repeating: 0, count: departments)
            self.tools = Array(repeating: 0, count: tools)
        }

        mutating func add(_ slot: Int, in index: CatalogIndex) {
            total += 1
            departments[Int(index.department[slot])] += 1
            for tool in index.tools[slot] { tools[Int(tool)] += 1 }
        }

        /// The 20 largest counts, ties by value.
        func top(_ counts: [Int], _ values: [String]) -> [FacetCount] {
            counts.indices.filter { counts[$0] > 0 }.sorted {
                counts[$0] != counts[$1]
                    ? counts[$0] > counts[$1] : values[$0].utf8.lexicographicallyPrecedes(values[$1].utf8)
            }.prefix(20).map { FacetCount(value: values[$0], count: counts[$0]) }
        }
    }

    /// The `capacity` smallest keys seen, in a max-heap.
    private struct Best {
        let capacity: Int
        var heap: [UInt64] = []

        init(capacity: Int) {
            self.capacity = capacity
            heap.reserveCapacity(min(capacity, 1024))
        }

        mutating func insert(_ key: UInt64) {
            if heap.count < capacity {
                heap.append(key)
                var child = heap.count - 1
                while child > 0 {
                    let parent = (child - 1) / 2
                    guard heap[parent] < heap[child] else { break }
                    heap.swapAt(parent, child)
                    child = parent
                }
            } else if let top = heap.first, key < top {
                heap[0] = key
                var parent = 0
                while true {
                    let (left, right) = (2 * parent + 1, 2 * parent + 2)
                    var largest = parent
                    if left < heap.count && heap[left] > heap[largest] { largest = left }
                    if right < heap.count && heap[right] > heap[largest] { largest = right }
                    guard largest != parent else { break }
                    heap.swapAt(parent, largest)
                    parent = largest
                }
            }
        }

        func sorted() -> [UInt64] { heap.sorted() }
    }
}
