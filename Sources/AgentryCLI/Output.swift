import ArgumentParser
import Foundation

/// Flags every client command shares: where the server is, which token, and the output format.
struct ClientOptions: ParsableArguments {
    @Option(help: "Server URL (default: from 'agentry login', or AGENTRY_SERVER).")
    var server: String?
    @Option(help: "Token (default: from 'agentry login', or AGENTRY_TOKEN).")
    var token: String?
    @Flag(help: "Print the server's JSON instead of a table, for scripts.")
    var json = false

    /// A client for the configured server.
    func client() throws -> APIClient { APIClient(credentials: try Credentials.load(server: server, token: token)) }

    /// The answer's JSON object to print from, or nil once `--json` has printed the answer as it came.
    func object(_ answer: APIClient.Answer) throws -> [String: Any]? {
        if json {
            print(String(decoding: answer.body, as: UTF8.self))
            return nil
        }
        return try JSONSerialization.jsonObject(with: answer.body) as? [String: Any] ?? [:]
    }

    /// Prints `answer` as JSON, or as a table of `columns` taken from each item (or the one object).
    func show(_ answer: APIClient.Answer, columns: [(String, String)]) throws {
        if json {
            print(String(decoding: answer.body, as: UTF8.self))
            return
        }
        let object = try JSONSerialization.jsonObject(with: answer.body)
        let items: [[String: Any]] =
            if let page = object as? [String: Any], let list = page["items"] as? [[String: Any]] { list } else {
                [object as? [String: Any] ?? [:]]
            }
        print(
            Table.render(headers: columns.map(\.0), rows: items.map { item in columns.map { Table.cell(item[$0.1]) } }))
    }
}

/// Plain-text tables for human output.
enum Table {
    /// Left-aligned columns separated by two spaces.
    static func render(headers: [String], rows: [[String]]) -> String {
        let all = [headers] + rows
        let widths = headers.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// A JSON value as a cell: arrays comma-joined, null as `-`.
    static func cell(_ value: Any?) -> String {
        switch value {
        case let list as [Any]: list.map { "\($0)" }.joined(separator: ",")
        case let flag as Bool: flag ? "yes" : "no"
        case nil, is NSNull: "-"
        case let value?: "\(value)"
        }
    }
}
