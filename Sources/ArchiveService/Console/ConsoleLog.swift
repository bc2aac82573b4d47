import ArchiveCore
import Foundation
import Logging

/// The process's output settings and, with `--log-format json`, the swift-log logger every standard-error
/// line goes through. One per process: the CLI configures it once, before the first line is written.
final class ConsoleLog: @unchecked Sendable {
    static let shared = ConsoleLog()

    private let lock = NSLock()
    private var _options = OutputOptions()
    private var logger: Logger?

    var options: OutputOptions { lock.withLock { _options } }

    func configure(_ options: OutputOptions) {
        lock.withLock {
            _options = options
            guard options.logFormat == .json else {
                logger = nil
                return
            }
            // Our own logger, not `LoggingSystem.bootstrap`: the libraries' loggers (async-http-client's)
            // stay silent, so nothing they might say about a request (its headers) can reach the log.
            var logger = Logger(label: "mxarchive") { _ in
                JSONLogHandler { line in FileHandle.standardError.write(Data(line.utf8)) }
            }
            logger.logLevel = options.quiet ? .warning : .info
            self.logger = logger
        }
    }

    /// A record through swift-log; messages are made single-line like every text line (they may carry a
    /// server's text).
    func record(_ level: Logger.Level, _ message: String, _ fields: LogFields) {
        guard let logger = lock.withLock({ logger }) else { return }
        logger.log(level: level, "\(DisplayText.singleLine(message, breaks: .space))", metadata: fields.metadata)
    }
}
