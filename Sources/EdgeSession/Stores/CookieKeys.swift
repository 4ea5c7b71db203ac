import Crypto

/// Reading and writing the keys of the signed and encrypted cookie stores.
enum CookieKeys {
    /// Decodes base64 or base64url keys (padded or not), naming the failing key by position only.
    static func decode(_ texts: [String], what: String) throws -> [[UInt8]] {
        guard !texts.isEmpty else {
            throw SessionError(.invalidKey, "no \(what) keys given; the first key signs or encrypts, all keys read")
        }
        return try texts.enumerated().map { index, text in
            let trimmed = text.trimmingCharacters(in: [" ", "\t", "\n", "\r"])
            guard !trimmed.isEmpty, let bytes = Base64URL.decode(trimmed) else {
                throw SessionError(
                    .invalidKey, "\(what) key #\(index + 1) is not valid base64 or unpadded base64url")
            }
            return bytes
        }
    }

    static func export(_ key: SymmetricKey) -> String {
        key.withUnsafeBytes { Base64URL.encode($0) }
    }

    static func random(byteCount: Int) -> SymmetricKey {
        SymmetricKey(data: secureRandomBytes(byteCount))
    }
}

/// `count` bytes from the system CSPRNG, drawn eight at a time: a draw is a system call, so drawing byte by byte
/// costs a call per byte (16 for an IV, 32 for a session id).
func secureRandomBytes(_ count: Int) -> [UInt8] {
    var rng = SystemRandomNumberGenerator()
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count + 7)
    while bytes.count < count {
        withUnsafeBytes(of: rng.next() as UInt64) { bytes.append(contentsOf: $0) }
    }
    bytes.removeLast(bytes.count - count)
    return bytes
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: Set<Character>) -> String {
        var s = Substring(self)
        while let first = s.first, set.contains(first) { s.removeFirst() }
        while let last = s.last, set.contains(last) { s.removeLast() }
        return String(s)
    }
}
