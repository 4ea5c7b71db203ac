import CCurl
import EdgeKV
import EdgeSupport
import Foundation
import Synchronization

/// One HTTP request as the transport sends it. The body is a list of segments sent back to back, so a multipart
/// body can frame a 25 MiB value without copying it.
struct HTTPCall: Sendable {
    var method: String
    var url: String
    var headers: [String]
    var body: [[UInt8]]?
}

/// What came back.
struct HTTPReply: Sendable {
    var status: Int
    /// Header fields with lower-cased names (the last occurrence wins).
    var headers: [String: String]
    var body: [UInt8]
}

/// A failure below HTTP: no connection, a timeout, a dropped connection.
public struct CloudflareTransportError: Error, Sendable, CustomStringConvertible {
    /// libcurl's result code.
    public let curlCode: Int
    /// libcurl's explanation.
    public let message: String
    /// How many attempts were made.
    public internal(set) var attempts: Int = 1

    /// `connection failed (curl 7) after 3 attempts: Failed to connect to 127.0.0.1 port 1 …`.
    public var description: String {
        let tries = attempts > 1 ? " after \(attempts) attempts" : ""
        return "connection failed (curl \(curlCode))\(tries): \(message)"
    }

    /// Whether trying again may help (connection refused or reset, timeouts, empty or partial replies).
    var isRetryable: Bool {
        [
            CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_OPERATION_TIMEDOUT, CURLE_SEND_ERROR,
            CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM,
        ].map { Int($0.rawValue) }.contains(curlCode)
    }
}

/// libcurl easy handles, one per lane, each driven by its own thread so blocking transfers never run on Swift's
/// cooperative pool. Reusing a lane's handle keeps its connection alive: one connection per concurrent lane.
final class CurlTransport: Sendable {
    struct Options: Sendable {
        var lanes: Int
        var connectTimeout: Duration
        var requestTimeout: Duration
        var caBundle: String?
        var userAgent: String
    }

    private let lanes: [CurlLane]
    private let free: Mutex<FreeLanes>
    private let options: Options

    private struct FreeLanes {
        var idle: [Int]
        var waiters: [CheckedContinuation<Int, Never>] = []
    }

    static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    init(options: Options) {
        _ = Self.globalInit
        self.options = options
        let count = max(1, options.lanes)
        lanes = (0..<count).map { CurlLane(index: $0) }
        free = Mutex(FreeLanes(idle: Array((0..<count).reversed())))
    }

    deinit {
        for lane in lanes { lane.close() }
    }

    /// TCP connections opened so far, over all lanes.
    var connectionsOpened: Int { lanes.reduce(0) { $0 + $1.connectionsOpened } }

    func perform(_ call: HTTPCall) async throws -> HTTPReply {
        let index = await acquire()
        defer { release(index) }
        return try await lanes[index].perform(call, options: options)
    }

    private func acquire() async -> Int {
        await withCheckedContinuation { continuation in
            let ready: Int? = free.withLock { state in
                if let index = state.idle.popLast() { return index }
                state.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    private func release(_ index: Int) {
        let waiter: CheckedContinuation<Int, Never>? = free.withLock { state in
            if state.waiters.isEmpty {
                state.idle.append(index)
                return nil
            }
            return state.waiters.removeFirst()
        }
        waiter?.resume(returning: index)
    }
}

/// One easy handle and the thread that uses it.
final class CurlLane: @unchecked Sendable {
    // @unchecked: `handle`, `errorBuffer` and `headerLists` are only used on `thread` (and by `close`, after the
    // thread has stopped); the counter is atomic through its mutex.
    private let handle: OpaquePointer
    private let thread: WorkerThread
    private let connections = Mutex(0)
    /// libcurl's error text for the current transfer.
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// Header lists built for earlier requests, by their lines: a request with the same headers as an earlier one
    /// (most do) reuses its list instead of allocating a new one.
    private var headerLists: [(lines: [String], list: UnsafeMutablePointer<curl_slist>?)] = []
    private static let maxHeaderLists = 8

    init(index: Int) {
        handle = OpaquePointer(curl_easy_init()!)
        thread = WorkerThread(name: "edgekv-curl-\(index)")
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    func close() {
        thread.stop()
        curl_easy_cleanup(UnsafeMutableRawPointer(handle))
        for entry in headerLists { curl_slist_free_all(entry.list) }
        headerLists = []
        errorBuffer.deallocate()
    }

    /// The header list for these lines (plus `Expect:`, so that curl never waits for a `100 Continue`).
    private func headerList(_ lines: [String]) -> UnsafeMutablePointer<curl_slist>? {
        if let entry = headerLists.first(where: { $0.lines == lines }) { return entry.list }
        var list: UnsafeMutablePointer<curl_slist>?
        for line in lines + ["Expect:"] { list = curl_slist_append(list, line) }
        if headerLists.count == Self.maxHeaderLists { curl_slist_free_all(headerLists.removeFirst().list) }
        headerLists.append((lines, list))
        return list
    }

    var connectionsOpened: Int { connections.withLock { $0 } }

    func perform(_ call: HTTPCall, options: CurlTransport.Options) async throws -> HTTPReply {
        try await thread.run { [self] in try performBlocking(call, options: options) }
    }

    private func performBlocking(_ call: HTTPCall, options: CurlTransport.Options) throws -> HTTPReply {
        let h = UnsafeMutableRawPointer(handle)
        curl_easy_reset(h)  // keeps the live connection, clears the previous request's options
        let box = TransferBox(segments: call.body ?? [])
        let unmanaged = Unmanaged.passRetained(box)
        defer { unmanaged.release() }
        let opaque = unmanaged.toOpaque()
        errorBuffer[0] = 0
        // After the reset the handle no longer points at a list, so an evicted one is not in use.
        let headers = headerList(call.headers)

        let rc: CURLcode = {
            _ = ccurl_setopt_pointer(h, CURLOPT_ERRORBUFFER, errorBuffer)
            _ = ccurl_setopt_string(h, CURLOPT_URL, call.url)
            _ = ccurl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
            _ = ccurl_setopt_long(h, CURLOPT_TCP_KEEPALIVE, 1)
            _ = ccurl_setopt_long(h, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS))
            _ = ccurl_setopt_long(h, CURLOPT_SSL_VERIFYPEER, 1)
            _ = ccurl_setopt_long(h, CURLOPT_SSL_VERIFYHOST, 2)
            if let ca = options.caBundle { _ = ccurl_setopt_string(h, CURLOPT_CAINFO, ca) }
            _ = ccurl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(options.connectTimeout))
            _ = ccurl_setopt_long(h, CURLOPT_TIMEOUT_MS, Self.milliseconds(options.requestTimeout))
            _ = ccurl_setopt_string(h, CURLOPT_USERAGENT, options.userAgent)
            _ = ccurl_setopt_slist(h, CURLOPT_HTTPHEADER, headers)
            _ = ccurl_setopt_data_callback(h, CURLOPT_WRITEFUNCTION, writeCallback)
            _ = ccurl_setopt_pointer(h, CURLOPT_WRITEDATA, opaque)
            _ = ccurl_setopt_data_callback(h, CURLOPT_HEADERFUNCTION, headerCallback)
            _ = ccurl_setopt_pointer(h, CURLOPT_HEADERDATA, opaque)
            if call.body != nil {
                _ = ccurl_setopt_long(h, CURLOPT_POST, 1)
                _ = ccurl_setopt_off(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(box.total))
                _ = ccurl_setopt_data_callback(h, CURLOPT_READFUNCTION, readCallback)
                _ = ccurl_setopt_pointer(h, CURLOPT_READDATA, opaque)
            } else if call.method == "GET" {
                _ = ccurl_setopt_long(h, CURLOPT_HTTPGET, 1)
            }
            if call.method != "GET" && call.method != "POST" {
                _ = ccurl_setopt_string(h, CURLOPT_CUSTOMREQUEST, call.method)
            }
            return curl_easy_perform(h)
        }()
        var newConnections = 0
        _ = ccurl_getinfo_long(h, CURLINFO_NUM_CONNECTS, &newConnections)
        if newConnections > 0 { connections.withLock { $0 += newConnections } }
        guard rc == CURLE_OK else {
            let detail = String(cString: errorBuffer)
            let text = detail.isEmpty ? String(cString: curl_easy_strerror(rc)) : detail
            throw CloudflareTransportError(curlCode: Int(rc.rawValue), message: text)
        }
        var status = 0
        _ = ccurl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        return HTTPReply(status: status, headers: box.headers, body: box.body)
    }

    static func milliseconds(_ d: Duration) -> Int {
        Int(d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000)
    }
}

/// The state of one transfer, reached from libcurl's callbacks through their user-data pointer.
final class TransferBox {
    let segments: [[UInt8]]
    let total: Int
    var segment = 0
    var offset = 0
    var body: [UInt8] = []
    var headers: [String: String] = [:]

    init(segments: [[UInt8]]) {
        self.segments = segments
        total = segments.reduce(0) { $0 + $1.count }
    }
}

private let writeCallback: ccurl_data_callback = { pointer, size, count, user in
    let box = Unmanaged<TransferBox>.fromOpaque(user!).takeUnretainedValue()
    let n = size * count
    if let pointer, n > 0 { box.body.append(contentsOf: UnsafeRawBufferPointer(start: pointer, count: n)) }
    return n
}

private let headerCallback: ccurl_data_callback = { pointer, size, count, user in
    let box = Unmanaged<TransferBox>.fromOpaque(user!).takeUnretainedValue()
    let n = size * count
    guard let pointer, n > 0 else { return n }
    // Parsed as bytes: names are ASCII (lower-cased here), values lose their surrounding spaces, tabs and CRLF.
    let line = UnsafeRawBufferPointer(start: pointer, count: n)
    if n >= 5 && line[0] == 0x48 && line[1] == 0x54 && line[2] == 0x54 && line[3] == 0x50 && line[4] == 0x2F {
        box.headers = [:]  // "HTTP/": a new response (after 100 Continue or a redirect)
        box.body = []
    } else if let colon = line.firstIndex(of: 0x3A) {
        let name = String(
            decoding: line[..<colon].lazy.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        var start = colon + 1
        var end = n
        while start < end && isSpace(line[start]) { start += 1 }
        while end > start && isSpace(line[end - 1]) { end -= 1 }
        let value = String(decoding: line[start..<end], as: UTF8.self)
        box.headers[name] = value
        if name == "content-length", let length = Int(value), length > 0, length < 1 << 30 {
            box.body.reserveCapacity(length)
        }
    }
    return n
}

private let readCallback: ccurl_data_callback = { pointer, size, count, user in
    let box = Unmanaged<TransferBox>.fromOpaque(user!).takeUnretainedValue()
    guard let pointer else { return 0 }
    let room = size * count
    var written = 0
    while written < room, box.segment < box.segments.count {
        let current = box.segments[box.segment]
        let available = current.count - box.offset
        if available == 0 {
            box.segment += 1
            box.offset = 0
            continue
        }
        let n = min(available, room - written)
        current.withUnsafeBytes { bytes in
            (pointer + written).withMemoryRebound(to: UInt8.self, capacity: n) { out in
                out.update(from: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self) + box.offset, count: n)
            }
        }
        box.offset += n
        written += n
    }
    return written
}
