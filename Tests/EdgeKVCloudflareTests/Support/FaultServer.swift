import Edge
import EdgeHTTP
import EdgeKV
import EdgeKVAPI
import EdgeKVCloudflare
import EdgeKVSQLite
import EdgeKVTestSupport
import Foundation
import HTTPTypes
import Testing

/// The API token the fault servers require. No error, description or dump may ever show it.
let faultToken = "edgekv-secret-token-7f3a9c41d2e8"

/// The account id in the fault tests' paths.
let faultAccount = "023e105f4ecef8ad9ca31a8372d0c353"

/// What the fault server does with one request.
enum Fault: Sendable {
    /// The REST API app answers.
    case pass
    /// This answer instead of the app's (a JSON content type unless the headers say otherwise).
    case answer(status: Int, headers: [String: String] = [:], body: String)
    /// Waits, then the app answers (a stalled response when the wait outlasts the client's timeout).
    case stall(Duration)
    /// Anything else: gets the request, its context and the app's handler.
    case custom(@Sendable (Request, Context, @escaping Handler) async throws -> Response)

    /// An error envelope with one error.
    static func error(_ status: Int, code: Int, message: String, headers: [String: String] = [:]) -> Fault {
        .answer(status: status, headers: headers, body: envelope(code: code, message: message))
    }

    /// Cloudflare's 429: code 971, with the given retry headers.
    static func rateLimited(_ headers: [String: String]) -> Fault {
        .error(429, code: 971, message: "Please wait and consider throttling your request speed", headers: headers)
    }

    /// `{"success":false,"errors":[{"code":…,"message":…}],"messages":[],"result":null}`.
    static func envelope(code: Int, message: String) -> String {
        let error: JSONValue = ["code": .int(Int64(code)), "message": .string(message)]
        let body: JSONValue = ["success": false, "errors": [error], "messages": [], "result": .null]
        return body.serialized
    }
}

/// Which fault each request gets, by its number (from 0) at the server.
typealias FaultScript = @Sendable (Int, Request) -> Fault

/// Ready-made scripts.
enum Script {
    /// These faults for the first requests, then the app.
    static func first(_ faults: Fault...) -> FaultScript {
        { index, _ in index < faults.count ? faults[index] : .pass }
    }

    /// The same fault for every request.
    static func always(_ fault: Fault) -> FaultScript { { _, _ in fault } }

    /// No faults.
    static let none: FaultScript = { _, _ in .pass }
}

/// The local REST API app over a fresh in-memory SQLite state on 127.0.0.1 (an ephemeral port), behind an Edge
/// handler that injects the faults a script asks for and logs every request it receives.
struct FaultServer: Sendable {
    /// The API behind the faults.
    let api: APIServer
    /// A namespace created for the test.
    let namespaceID: String

    /// The state behind the app.
    var store: SQLiteKVStore { api.store }
    /// The running server.
    var server: RunningEdgeServer { api.server }
    /// What arrived.
    var log: RequestLog { api.requests }

    /// The API base the client is pointed at.
    var baseURL: String { server.baseURL + "/client/v4" }

    /// The test namespace, straight from the state (not through HTTP).
    var namespace: any KVNamespace { store.namespace(id: namespaceID) }

    /// A client for this server: one lane unless told otherwise, the fault token, fast retries by default.
    func client(
        _ retry: CloudflareRetryPolicy = .fast, requestTimeout: Duration = .seconds(30), lanes: Int = 1,
        token: String = faultToken
    ) -> CloudflareClient {
        CloudflareClient(
            configuration: CloudflareConfiguration(
                baseURL: baseURL, accountID: faultAccount, credentials: .token(token), retry: retry,
                connectTimeout: .seconds(5), requestTimeout: requestTimeout, lanes: lanes))
    }

    /// The test namespace through the REST client.
    func remote(_ client: CloudflareClient) -> CloudflareKVNamespace {
        CloudflareKVNamespace(client: client, id: namespaceID)
    }

    /// Starts a server following `script`, runs `body`, and stops the server, even when `body` throws.
    /// - Parameter configuration: who the app lets in (by default: bearer ``faultToken``).
    static func with<T>(
        _ script: @escaping FaultScript,
        api configuration: KVAPI.Configuration = KVAPI.Configuration(token: faultToken),
        _ body: (FaultServer) async throws -> T
    ) async throws -> T {
        let store = try await SQLiteKVStore(inMemoryWithClock: SystemClock())
        let info = try await store.createNamespace(title: "faults")
        let intercept: APIServer.Intercept = { index, request, context, appHandler in
            switch script(index, request) {
            case .pass:
                return try await appHandler(request, context)
            case .answer(let status, let headers, let body):
                _ = try? await request.bytes()  // read the upload, so that the connection stays usable
                var fields = HTTPFields()
                fields[.contentType] = "application/json"
                for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
                return Response(status: HTTPResponse.Status(code: status), headers: fields, body: .text(body))
            case .stall(let duration):
                try await Task.sleep(for: duration)
                return try await appHandler(request, context)
            case .custom(let respond):
                return try await respond(request, context, appHandler)
            }
        }
        return try await APIServer.with(
            store: store, clock: SystemClock(), configuration: configuration, intercept: intercept
        ) { api in
            try await body(FaultServer(api: api, namespaceID: info.id))
        }
    }
}

extension CloudflareRetryPolicy {
    /// Three attempts, 50 ms backoff doubling to 200 ms: retries that keep the tests quick.
    // The deadline only has to outlast three attempts on a loaded machine (an attempt has taken 25 s with the whole
    // suite running on two cores); the tests count attempts, not time.
    static let fast = CloudflareRetryPolicy(
        maxAttempts: 3, deadline: .seconds(180), baseDelay: .milliseconds(50), maxDelay: .milliseconds(200))
}

/// Seconds as a `Double`, for readable bounds.
func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// Runs `body` and returns its result with the time it took.
func timed<T>(_ body: () async throws -> T) async rethrows -> (T, Duration) {
    let clock = ContinuousClock()
    let start = clock.now
    let value = try await body()
    return (value, clock.now - start)
}

/// Runs `body`, which must fail, and returns its error with the time it took.
func failure<T>(_ body: () async throws -> T) async -> (error: (any Error)?, elapsed: Duration) {
    let clock = ContinuousClock()
    let start = clock.now
    do {
        _ = try await body()
        return (nil, clock.now - start)
    } catch {
        return (error, clock.now - start)
    }
}

/// Every way a value can be printed — `description`, `debugDescription`, interpolation, `dump` — and none may
/// contain a secret.
func expectNoSecret(
    _ value: Any, secrets: [String] = [faultToken], sourceLocation: SourceLocation = #_sourceLocation
) {
    var dumped = ""
    dump(value, to: &dumped)
    let renderings = [
        ("description", String(describing: value)), ("debugDescription", String(reflecting: value)),
        ("interpolation", "\(value)"), ("dump", dumped),
    ]
    for (way, text) in renderings {
        for secret in secrets {
            #expect(!text.contains(secret), "\(way) shows a secret: \(text)", sourceLocation: sourceLocation)
        }
    }
}

/// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
func httpDate(_ date: Date) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "GMT")
    formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
    return formatter.string(from: date)
}
