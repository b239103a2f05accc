import AgentryRuntime
import Foundation

extension ConfigurationSetting {
    /// The settings of agent runs: where and how code agents run, their limits, and how many
    /// runs execute at once.
    static let runs: [ConfigurationSetting] = [
        .init(key: "runs.directory", help: "Directory of unpacked packages, virtualenvs and run scratch space.") {
            config, value in
            guard value.hasPrefix("/") else { throw Reason("must be an absolute path") }
            config.runtime.code.directory = value
        },
        .init(
            key: "runs.python",
            help: "Python that runs code agents and makes their virtualenvs (default /usr/bin/python3)."
        ) {
            config, value in
            guard value.hasPrefix("/") else { throw Reason("must be an absolute path") }
            config.runtime.code.python = value
        },
        .init(key: "runs.package_index", help: "Package index code agents' requirements come from (default pip's).") {
            config, value in
            guard let url = URL(string: value), ["http", "https"].contains(url.scheme ?? "") else {
                throw Reason("must be an http(s) URL")
            }
            config.runtime.code.packageIndex = value
        },
        .init(key: "runs.isolation", help: "auto (bubblewrap when installed), bubblewrap or none (default auto).") {
            config, value in
            guard let isolation = CodeIsolation(rawValue: value.lowercased()) else {
                throw Reason("must be auto, bubblewrap or none")
            }
            config.runtime.code.isolation = isolation
        },
        .init(
            key: "runs.separate_users",
            help: "When run as root, give each concurrent run a user of its own (default true)."
        ) {
            config, value in config.runtime.code.separateUsers = try parseBool(value)
        },
        number("runs.wall_seconds", "Wall-clock seconds a code agent may run (default 300).", 1...86_400) {
            $0.runtime.code.limits.wallSeconds = $1
        },
        number("runs.cpu_seconds", "CPU seconds a code agent may use (default 120).", 1...86_400) {
            $0.runtime.code.limits.cpuSeconds = $1
        },
        number("runs.memory_mb", "Address space of a code agent in MiB (default 1024).", 64...1_048_576) {
            $0.runtime.code.limits.memoryBytes = $1 << 20
        },
        number(
            "runs.output_kb", "Output (stdout and stderr) a code agent may write in KiB (default 1024).", 1...1_048_576
        ) {
            $0.runtime.code.limits.outputBytes = $1 << 10
        },
        number("runs.processes", "Processes and threads of one run's user (default 64).", 1...100_000) {
            $0.runtime.code.limits.processes = $1
        },
        number("runs.max_concurrent", "Runs executing at once (default 16).", 1...10_000) {
            $0.runtime.concurrency.overall = $1
        },
        number("runs.max_per_agent", "Runs of one agent executing at once (default 8).", 1...10_000) {
            $0.runtime.concurrency.perAgent = $1
        },
        number("runs.max_per_user", "Runs of one user executing at once (default 4).", 1...10_000) {
            $0.runtime.concurrency.perUser = $1
        },
        number("runs.max_queued", "Runs waiting for a place before new ones are refused (default 1000).", 0...1_000_000)
        {
            $0.runtime.concurrency.queued = $1
        },
    ]

    /// A whole-number setting within `range`.
    private static func number(
        _ key: String, _ help: String, _ range: ClosedRange<Int>,
        _ apply: @escaping @Sendable (inout ServerConfiguration, Int) -> Void
    ) -> ConfigurationSetting {
        .init(key: key, help: help) { config, value in
            guard let number = Int(value), range.contains(number) else {
                throw Reason("must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            apply(&config, number)
        }
    }
}

/// Short name for the refusal a setting throws.
private typealias Reason = ConfigurationError.Reason
