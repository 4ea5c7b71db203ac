/// Whether two byte strings are equal, in a time that depends only on their lengths, never on where they differ:
/// for secrets (API tokens, MACs) an attacker may probe.
package func constantTimeEqual(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
    var difference = UInt8(a.count == b.count ? 0 : 1)
    var x = a.makeIterator()
    var y = b.makeIterator()
    for _ in 0..<max(a.count, b.count) {
        difference |= (x.next() ?? 0) ^ (y.next() ?? 0)
    }
    return difference == 0
}
