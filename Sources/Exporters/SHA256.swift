/// SHA-256 (FIPS 180-4), streaming. The manifest records one for every exported file; written here so
/// that the exporter needs no cryptography package (the hashes protect against change, not attackers
/// who can also rewrite the manifest).
public struct SHA256: Sendable {
    private var state: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
        (0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19)
    private var block = [UInt8](repeating: 0, count: 64)
    private var blockCount = 0
    private var totalBytes: UInt64 = 0

    public init() {}

    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        totalBytes &+= UInt64(bytes.count)
        var offset = 0
        let count = bytes.count
        if blockCount > 0 {
            let take = min(64 - blockCount, count)
            for i in 0..<take { block[blockCount + i] = base.load(fromByteOffset: i, as: UInt8.self) }
            blockCount += take
            offset = take
            if blockCount == 64 {
                block.withUnsafeBytes { compress(UnsafeRawPointer($0.baseAddress!)) }
                blockCount = 0
            }
        }
        while count - offset >= 64 {
            compress(base + offset)
            offset += 64
        }
        if offset < count {
            for i in offset..<count { block[blockCount] = base.load(fromByteOffset: i, as: UInt8.self); blockCount += 1 }
        }
    }

    public mutating func update<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        let array = Array(bytes)
        array.withUnsafeBytes { update($0) }
    }

    /// The digest as 64 lowercase hex digits.
    public mutating func finalizeHex() -> String {
        let bitLength = totalBytes &* 8
        var padding: [UInt8] = [0x80]
        let afterPad = (blockCount + 1) % 64
        padding += [UInt8](repeating: 0, count: afterPad <= 56 ? 56 - afterPad : 120 - afterPad)
        for shift in stride(from: 56, through: 0, by: -8) { padding.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
        let saved = totalBytes
        padding.withUnsafeBytes { update($0) }
        totalBytes = saved
        let words = [state.0, state.1, state.2, state.3, state.4, state.5, state.6, state.7]
        let hex: [Character] = Array("0123456789abcdef")
        var result = ""
        result.reserveCapacity(64)
        for word in words {
            for shift in stride(from: 28, through: 0, by: -4) { result.append(hex[Int((word >> UInt32(shift)) & 0xf)]) }
        }
        return result
    }

    public static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalizeHex()
    }

    @inline(__always)
    private mutating func compress(_ chunk: UnsafeRawPointer) {
        var current = state
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            for i in 0..<16 {
                let b0 = UInt32(chunk.load(fromByteOffset: i * 4, as: UInt8.self))
                let b1 = UInt32(chunk.load(fromByteOffset: i * 4 + 1, as: UInt8.self))
                let b2 = UInt32(chunk.load(fromByteOffset: i * 4 + 2, as: UInt8.self))
                let b3 = UInt32(chunk.load(fromByteOffset: i * 4 + 3, as: UInt8.self))
                w[i] = b0 << 24 | b1 << 16 | b2 << 8 | b3
            }
            for i in 16..<64 {
                let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
                let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, h) = current
            Self.k.withUnsafeBufferPointer { k in
                for i in 0..<64 {
                    let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                    let ch = (e & f) ^ (~e & g)
                    let t1 = h &+ s1 &+ ch &+ k[i] &+ w[i]
                    let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                    let maj = (a & b) ^ (a & c) ^ (b & c)
                    let t2 = s0 &+ maj
                    h = g; g = f; f = e; e = d &+ t1
                    d = c; c = b; b = a; a = t1 &+ t2
                }
            }
            current = (current.0 &+ a, current.1 &+ b, current.2 &+ c, current.3 &+ d,
                       current.4 &+ e, current.5 &+ f, current.6 &+ g, current.7 &+ h)
        }
        state = current
    }
}

@inline(__always) private func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
