import Foundation

/// A fresh directory under the system's temporary directory, removed by `remove()`.
public struct TemporaryDirectory: Sendable {
    /// The directory's path.
    public let path: String

    /// Creates a new, empty directory whose name starts with `prefix`.
    public init(prefix: String = "agentry-test") throws {
        let base = FileManager.default.temporaryDirectory.path
        path = "\(base)/\(prefix)-\(UUID().uuidString.lowercased())"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// `path/name`.
    public func file(_ name: String) -> String { "\(path)/\(name)" }

    /// Deletes the directory and everything in it.
    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A failed expectation inside the test kit: thrown, so any test runner reports it with its message.
public struct ExpectationFailure: Error, CustomStringConvertible {
    /// What was expected and what happened.
    public let description: String

    /// Creates the failure.
    public init(_ description: String) { self.description = description }
}

/// Throws `ExpectationFailure(message)` unless `condition` holds.
public func ensure(
    _ condition: @autoclosure () async throws -> Bool, _ message: @autoclosure () -> String,
    file: StaticString = #filePath, line: UInt = #line
) async throws {
    guard try await condition() else { throw ExpectationFailure("\(message()) (\(file):\(line))") }
}

/// Runs `body` and returns the error it threw, or fails when it did not throw.
public func expectThrows(
    _ body: () async throws -> Void, file: StaticString = #filePath, line: UInt = #line
) async throws -> any Error {
    do {
        try await body()
    } catch {
        return error
    }
    throw ExpectationFailure("expected an error, none was thrown (\(file):\(line))")
}
