import Foundation
import Synchronization

/// The Catalog search an instance serves: a `CatalogIndex` kept level with the store. Before
/// each search it reads the store's Catalog revision (one row) and, when another writer moved
/// it, loads just the entries changed since; so a publication or a suspension on any instance is
/// in the next search everywhere.
public final class CatalogSearch: Sendable {
    private let store: any CatalogStore
    private let current = Mutex(Loaded(index: CatalogIndex(), revision: -1))
    private let loader = Loader()

    /// The index and the revision it holds.
    private struct Loaded: Sendable {
        var index: CatalogIndex
        var revision: Int64
    }

    /// A search over `store`'s Catalog (loaded on first use).
    public init(store: any CatalogStore) {
        self.store = store
    }

    /// The page `query` asks for, as of the store's latest revision.
    public func search(_ query: CatalogQuery) async throws -> CatalogPage {
        try await index().search(query)
    }

    /// The index, brought level with the store first if the store has moved.
    public func index() async throws -> CatalogIndex {
        let revision = try await store.revision()
        let loaded = current.withLock { $0 }
        if loaded.revision == revision { return loaded.index }
        return try await loader.refresh(self, to: revision)
    }

    /// Refreshes one at a time, so concurrent searches that find the index behind load it once.
    private actor Loader {
        func refresh(_ search: CatalogSearch, to revision: Int64) async throws -> CatalogIndex {
            var loaded = search.current.withLock { $0 }
            if loaded.revision == revision { return loaded.index }
            if revision < loaded.revision {
                // Read before another search moved the index on, or a store that went back
                // (restored from a backup): only the second starts again from nothing.
                guard try await search.store.revision() < loaded.revision else { return loaded.index }
                loaded = Loaded(index: CatalogIndex(), revision: -1)
            }
            let changes = try await search.store.changes(after: loaded.revision)
            loaded.index.apply(changes.entries)
            loaded.revision = changes.revision
            let done = loaded
            search.current.withLock { $0 = done }
            return done.index
        }
    }
}
