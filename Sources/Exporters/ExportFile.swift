import Foundation

/// The contents of one exported file while it is being rendered. Small files stay in memory; past
/// `spillThreshold` bytes the contents move to an unlinked temporary file, so a month of a huge room
/// never holds the process's memory (a tar entry's size must be known before its header, so a file
/// cannot be streamed straight into the archive while it is still growing).
public final class ExportFile {
    public static let defaultSpillThreshold = 8 << 20

    private var memory: [UInt8] = []
    private var spill: UnsafeMutablePointer<FILE>?
    private let spillThreshold: Int
    public private(set) var size: Int64 = 0

    public init(spillThreshold: Int = ExportFile.defaultSpillThreshold) {
        self.spillThreshold = spillThreshold
        memory.reserveCapacity(min(spillThreshold, 1 << 16))
    }

    deinit { if let spill { fclose(spill) } }

    /// What the contents hold while the file waits to be written: the memory reserved for them (a small
    /// page still holds its whole reservation), or a spilled file's bytes in its temporary file (which
    /// is on a tmpfs, so in memory, on many systems).
    var heldBytes: Int64 { spill == nil ? Int64(memory.capacity) : size }

    public func append(_ text: String) {
        var text = text
        text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    public func append(_ bytes: UnsafeRawBufferPointer) {
        size += Int64(bytes.count)
        if let spill {
            _ = fwrite(bytes.baseAddress, 1, bytes.count, spill)
            return
        }
        memory.append(contentsOf: bytes)
        if memory.count > spillThreshold, let file = tmpfile() {
            // tmpfile() is already unlinked: nothing is left behind if the process dies.
            memory.withUnsafeBytes { _ = fwrite($0.baseAddress, 1, $0.count, file) }
            memory = []
            spill = file
        }
    }

    /// Calls `body` with the contents in chunks, in order.
    func forEachChunk(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let spill else {
            try memory.withUnsafeBytes { try body($0) }
            return
        }
        fflush(spill)
        rewind(spill)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var remaining = size
        while remaining > 0 {
            let read = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, spill) }
            if read == 0 { throw ExportError.failure("could not read back a spilled export file") }
            try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<read])) }
            remaining -= Int64(read)
        }
    }
}
