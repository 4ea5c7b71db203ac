import Edge
import EdgeKV
import EdgeKVCloudflare
import EdgeKVTestSupport
import Foundation
import HTTPTypes
import Synchronization
import Testing

/// The REST client against servers that misbehave on purpose: rate limits with every form of
/// `Retry-After`, server errors, dropped and stalled connections, malformed envelopes, bulk writes cut short.
///
/// Requests are counted where they arrive — at the server — and time is measured with `ContinuousClock`. Timing
/// assertions are lower bounds ("waited at least about 1 s") with generous upper bounds, as tests run in parallel
/// on a shared machine. Every error a test sees is also checked for the API token.
@Suite struct FaultTests {
    // MARK: 429 and Retry-After

    @Test func retryAfterSecondsIsWaitedOut() async throws {
        try await FaultServer.with(
            Script.first(.rateLimited(["Retry-After": "1"]), .rateLimited(["Retry-After": "1"]))
        ) { server in
            try await server.namespace.put("k", "v")
            let client = server.client(CloudflareRetryPolicy(maxAttempts: 4))
            let (value, elapsed) = try await timed {
                try await client.readValue(namespaceID: server.namespaceID, key: "k")
            }
            #expect(value?.value == Array("v".utf8))
            #expect(server.log.count == 3)
            for gap in server.log.gaps { #expect(seconds(gap) >= 0.95, "each retry waits the second it was told") }
            // The two 1 s waits, and below that a hang: the requests themselves take milliseconds.
            #expect(seconds(elapsed) >= 1.9 && seconds(elapsed) < 60)
        }
    }

    @Test func retryAfterMillisecondsWinsOverSeconds() async throws {
        // Retry-After is 5 min, far beyond what a loaded machine takes for the 300 ms wait and one more request.
        try await FaultServer.with(Script.first(.rateLimited(["retry-after-ms": "300", "Retry-After": "300"]))) {
            server in
            try await server.namespace.put("k", "v")
            let client = server.client(CloudflareRetryPolicy(maxRetryAfter: .seconds(600)))
            let (value, elapsed) = try await timed {
                try await client.readValue(namespaceID: server.namespaceID, key: "k")
            }
            #expect(value?.value == Array("v".utf8))
            #expect(server.log.count == 2)
            let gap = try #require(server.log.gaps.first)
            #expect(seconds(gap) >= 0.28, "waited the 300 ms of retry-after-ms")
            #expect(seconds(elapsed) < 120, "did not wait the 300 s of Retry-After")
        }
    }

    @Test func retryAfterHTTPDateIsWaitedOut() async throws {
        // The date is made when the answer is, 2 s ahead; with whole seconds the client waits between 1 and 2 s.
        let dated = Fault.custom { _, _, _ in
            Response.text(
                Fault.envelope(code: 971, message: "Please wait and consider throttling your request speed"),
                status: .tooManyRequests, headers: [.retryAfter: httpDate(Date().addingTimeInterval(2))])
        }
        try await FaultServer.with(Script.first(dated)) { server in
            try await server.namespace.put("k", "v")
            let client = server.client()
            let (value, elapsed) = try await timed {
                try await client.readValue(namespaceID: server.namespaceID, key: "k")
            }
            #expect(value?.value == Array("v".utf8))
            #expect(server.log.count == 2)
            let gap = try #require(server.log.gaps.first)
            #expect(seconds(gap) >= 0.9, "waited until the date")
            // A hang: the wait is at most 2 s (a loaded machine has taken 30 s for the whole exchange).
            #expect(seconds(elapsed) < 120)
        }
    }

    /// `Retry-After: 0`, a date already past, or a value that is not a delay: nothing to wait out, so the client
    /// retries after its own backoff — it must not give up.
    @Test(arguments: ["0", "past", "soon"])
    func retryAfterWithoutAUsableDelayBacksOff(_ value: String) async throws {
        let header = value == "past" ? httpDate(Date().addingTimeInterval(-30)) : value
        try await FaultServer.with(Script.first(.rateLimited(["Retry-After": header]))) { server in
            try await server.namespace.put("k", "v")
            let client = server.client()
            let value = try await client.readValue(namespaceID: server.namespaceID, key: "k")
            #expect(value?.value == Array("v".utf8))
            #expect(server.log.count == 2)
        }
    }

    @Test func retryAfterBeyondTheLimitGivesUpAtOnce() async throws {
        try await FaultServer.with(Script.always(.rateLimited(["Retry-After": "120"]))) { server in
            let client = server.client(CloudflareRetryPolicy(maxAttempts: 4, maxRetryAfter: .seconds(60)))
            let (error, elapsed) = await failure {
                try await client.writeValue(namespaceID: server.namespaceID, key: "k", value: [1])
            }
            let api = try #require(error as? CloudflareAPIError)
            #expect(api.status == 429 && api.code == 971)
            #expect(api.message == "Please wait and consider throttling your request speed")
            #expect(api.attempts == 1)
            #expect(server.log.count == 1, "a 120 s wait is past maxRetryAfter: the server's answer is returned")
            // Well under the 120 s wait, which is never started; the one attempt takes milliseconds.
            #expect(seconds(elapsed) < 60)
            expectNoSecret(api)
        }
    }

    @Test func rateLimitedOnEveryAttemptStopsAtMaxAttempts() async throws {
        try await FaultServer.with(Script.always(.rateLimited(["Retry-After": "1"]))) { server in
            let client = server.client(CloudflareRetryPolicy(maxAttempts: 3))
            let (error, elapsed) = await failure {
                try await client.writeValue(namespaceID: server.namespaceID, key: "k", value: [1])
            }
            let api = try #require(error as? CloudflareAPIError)
            #expect(server.log.count == 3)
            #expect(api.status == 429 && api.code == 971 && api.attempts == 3)
            #expect(
                api.description
                    == "Cloudflare API error 971 (HTTP 429) after 3 attempts: "
                    + "Please wait and consider throttling your request speed")
            // The two 1 s waits, and below that a hang: the requests themselves take milliseconds.
            #expect(seconds(elapsed) >= 1.9 && seconds(elapsed) < 60)
            expectNoSecret(api)
        }
    }

    // MARK: Server errors

    @Test(arguments: [408, 409, 500, 502, 503])
    func serverErrorsAreRetriedUpToMaxAttempts(_ status: Int) async throws {
        try await FaultServer.with(Script.always(.error(status, code: 10_000 + status, message: "fault \(status)"))) {
            server in
            let client = server.client(.fast)
            let (error, _) = await failure {
                try await client.writeValue(namespaceID: server.namespaceID, key: "k", value: [1])
            }
            let api = try #require(error as? CloudflareAPIError)
            #expect(server.log.count == 3)
            #expect(api.status == status && api.code == 10_000 + status && api.message == "fault \(status)")
            #expect(api.attempts == 3)
            #expect(api.description.contains("\(10_000 + status) (HTTP \(status)) after 3 attempts: fault \(status)"))
            expectNoSecret(api)
        }
    }

    @Test(arguments: [500, 502, 503])
    func aServerErrorThenSuccessWrites(_ status: Int) async throws {
        try await FaultServer.with(Script.first(.error(status, code: 10_500, message: "transient"))) { server in
            let client = server.client(.fast)
            try await client.writeValue(namespaceID: server.namespaceID, key: "k", value: Array("landed".utf8))
            #expect(server.log.count == 2)
            #expect(try await server.namespace.get("k") == "landed")
        }
    }

    @Test func backoffGrowsExponentially() async throws {
        try await FaultServer.with(Script.always(.error(503, code: 10_503, message: "unavailable"))) { server in
            let policy = CloudflareRetryPolicy(
                maxAttempts: 3, baseDelay: .milliseconds(200), maxDelay: .seconds(8))
            let client = server.client(policy)
            let (error, elapsed) = await failure {
                try await client.writeValue(namespaceID: server.namespaceID, key: "k", value: [1])
            }
            #expect((error as? CloudflareAPIError)?.attempts == 3)
            let gaps = server.log.gaps.map(seconds)
            try #require(gaps.count == 2)
            // Jitter takes off at most a quarter: 150–200 ms, then 300–400 ms.
            #expect(gaps[0] >= 0.14)
            #expect(gaps[1] >= 0.28)
            #expect(seconds(elapsed) >= 0.42)
        }
    }

    @Test func theDeadlineStopsRetries() async throws {
        try await FaultServer.with(Script.always(.error(503, code: 10_503, message: "unavailable"))) { server in
            let policy = CloudflareRetryPolicy(
                maxAttempts: 50, deadline: .seconds(1), baseDelay: .milliseconds(200), maxDelay: .milliseconds(200))
            let client = server.client(policy)
            let (error, elapsed) = await failure {
                try await client.writeValue(namespaceID: server.namespaceID, key: "k", value: [1])
            }
            let api = try #require(error as? CloudflareAPIError)
            let count = server.log.count
            // No retry whose wait would end past the 1 s deadline: each wait is over 150 ms, so the 7th retry
            // would wait past it. Counted, not timed: a loaded machine makes fewer attempts, never more.
            #expect(count <= 7, "at most 1 s of 150–200 ms waits, far from 50 attempts")
            #expect(api.attempts == count && api.status == 503 && api.code == 10_503)
            // A hang, not the deadline: the attempts take well under a second on an idle machine.
            #expect(seconds(elapsed) < 45)
            expectNoSecret(api)
        }
    }

    // MARK: Not retried

    /// Injected refusals, each with Cloudflare's envelope (and a `Retry-After` that must not tempt the client).
    @Test(
        arguments: [
            (400, 10_021, "Invalid expiration_ttl of 30. Expiration TTL must be at least 60."),
            (401, 10_001, "Unable to authenticate request"),
            (403, 10_000, "Authentication error"),
            (404, 10_013, "list keys: 'namespace not found'"),
            (413, 10_011, "Value length of 26214401 exceeds limit of 26214400."),
        ])
    func clientErrorsAreNotRetried(_ status: Int, _ code: Int, _ message: String) async throws {
        try await FaultServer.with(
            Script.always(.error(status, code: code, message: message, headers: ["Retry-After": "1"]))
        ) { server in
            let client = server.client(CloudflareRetryPolicy(maxAttempts: 5))
            let (error, elapsed) = await failure {
                try await client.writeValue(namespaceID: server.namespaceID, key: "k", value: [1])
            }
            let api = try #require(error as? CloudflareAPIError)
            #expect(server.log.count == 1)
            #expect(api.status == status && api.code == code && api.message == message && api.attempts == 1)
            #expect(api.description == "Cloudflare API error \(code) (HTTP \(status)): \(message)")
            // A hang: one refused attempt takes milliseconds, and the Retry-After it carries must not be waited out.
            #expect(seconds(elapsed) < 30)
            expectNoSecret(api)
        }
    }

    /// The same refusals from the REST API app itself: a wrong token, a namespace that does not exist, a value
    /// over 25 MiB. Each is one request.
    @Test func realRefusalsAreNotRetried() async throws {
        try await FaultServer.with(Script.none) { server in
            let policy = CloudflareRetryPolicy(maxAttempts: 5)
            let wrongToken = "wrong-token-aa8b3c1d9e"
            let impostor = server.client(policy, token: wrongToken)
            var (error, _) = await failure {
                try await impostor.writeValue(namespaceID: server.namespaceID, key: "k", value: [1])
            }
            var api = try #require(error as? CloudflareAPIError)
            #expect(api.status == 403 && api.code == 10_000 && api.message == "Authentication error")
            #expect(server.log.count == 1)
            expectNoSecret(api, secrets: [faultToken, wrongToken])

            let client = server.client(policy)
            (error, _) = await failure {
                try await client.writeValue(namespaceID: "0123456789abcdef0123456789abcdef", key: "k", value: [1])
            }
            api = try #require(error as? CloudflareAPIError)
            #expect(api.status == 404 && api.code == 10_013)
            #expect(server.log.count == 2)

            (error, _) = await failure {
                try await client.writeValue(
                    namespaceID: server.namespaceID, key: "big", value: [UInt8](repeating: 7, count: 26_214_401))
            }
            api = try #require(error as? CloudflareAPIError)
            #expect(api.status == 413 && api.code == 10_413)
            #expect(api.message.contains("26214400"))
            #expect(server.log.count == 3)
            expectNoSecret(api)

            // A missing key is nil for get, not an error, and one request.
            #expect(try await client.readValue(namespaceID: server.namespaceID, key: "missing") == nil)
            #expect(server.log.count == 4)

            // Clients that have sent requests (and keep their header lines) still show no secret.
            expectNoSecret(client)
            expectNoSecret(impostor, secrets: [wrongToken])
        }
    }

    // MARK: Dropped, cut and stalled connections

    @Test func droppedConnectionsAreRetried() async throws {
        try await withRawServer({ $0 < 2 ? .close : .reply(status: 200, body: "hello") }) { server in
            let client = rawClient(server, .fast)
            let value = try await client.readValue(namespaceID: "ns", key: "k")
            #expect(value?.value == Array("hello".utf8))
            #expect(server.connections == 3)
            #expect(client.connectionsOpened == 3)
        }
    }

    @Test func aConnectionDroppedEveryTimeStopsAtMaxAttempts() async throws {
        try await withRawServer({ _ in .close }) { server in
            let client = rawClient(server, .fast)
            let (error, _) = await failure { try await client.readValue(namespaceID: "ns", key: "k") }
            let transport = try #require(error as? CloudflareTransportError)
            #expect(transport.curlCode == 52)  // CURLE_GOT_NOTHING
            #expect(transport.attempts == 3)
            #expect(transport.description.hasPrefix("connection failed (curl 52) after 3 attempts: "))
            #expect(server.connections == 3)
            expectNoSecret(transport)
        }
    }

    @Test func aReplyCutShortIsRetried() async throws {
        try await withRawServer({ $0 == 0 ? .truncated : .reply(status: 200, body: "whole") }) { server in
            let client = rawClient(server, .fast)
            let value = try await client.readValue(namespaceID: "ns", key: "k")
            #expect(value?.value == Array("whole".utf8))
            #expect(server.connections == 2)
        }
    }

    /// A peer that does not speak HTTP will not start to on a retry: one connection, a clear transport error.
    @Test func aReplyThatIsNotHTTPIsNotRetried() async throws {
        try await withRawServer({ _ in .garbage }) { server in
            let client = rawClient(server, .fast)
            let (error, _) = await failure { try await client.readValue(namespaceID: "ns", key: "k") }
            let transport = try #require(error as? CloudflareTransportError)
            #expect(transport.attempts == 1)
            #expect(transport.description.hasPrefix("connection failed (curl \(transport.curlCode)): "))
            #expect(server.connections == 1)
            expectNoSecret(transport)
        }
    }

    @Test func aStalledResponseTimesOutAndIsRetried() async throws {
        try await FaultServer.with(Script.always(.stall(.seconds(4)))) { server in
            try await server.namespace.put("k", "v")
            let client = server.client(.fast, requestTimeout: .seconds(1))
            let (error, elapsed) = await failure {
                try await client.readValue(namespaceID: server.namespaceID, key: "k")
            }
            let transport = try #require(error as? CloudflareTransportError)
            #expect(transport.curlCode == 28)  // CURLE_OPERATION_TIMEDOUT
            #expect(transport.attempts == 3)
            // On a loaded machine the last attempt can time out before the server has logged it.
            #expect((2...3).contains(server.log.count), "\(server.log.count) requests logged")
            #expect(seconds(elapsed) >= 2.9, "three waits of 1 s")
            expectNoSecret(transport)
        }
    }

    @Test func aStallThenAnAnswerSucceedsOnANewConnection() async throws {
        try await FaultServer.with(Script.first(.stall(.seconds(8)))) { server in
            try await server.namespace.put("k", "v")
            // Generous attempts: a machine too loaded to answer within the timeout may time out more than once.
            let client = server.client(
                CloudflareRetryPolicy(maxAttempts: 8, baseDelay: .milliseconds(50), maxDelay: .milliseconds(200)),
                requestTimeout: .seconds(3))
            let (value, elapsed) = try await timed {
                try await client.readValue(namespaceID: server.namespaceID, key: "k")
            }
            #expect(value?.value == Array("v".utf8))
            // Normally two requests; a machine too loaded to answer a read within 2 s may time out once more.
            #expect(server.log.count >= 2)
            #expect(client.connectionsOpened == server.log.count, "a timed-out connection is never reused")
            #expect(seconds(elapsed) >= 2.9)
        }
    }

    // MARK: Malformed envelopes

    struct Malformed: Sendable, CustomTestStringConvertible {
        let name: String
        let status: Int
        let body: String
        let code: Int?
        let messageContains: String
        let attempts: Int
        var testDescription: String { name }
    }

    @Test(
        arguments: [
            Malformed(
                name: "200 with a body that is not JSON", status: 200, body: "<html>upstream says hi</html>", code: nil,
                messageContains: "not a JSON envelope): <html>upstream says hi</html>", attempts: 1),
            Malformed(
                name: "200 with an empty body", status: 200, body: "", code: nil,
                messageContains: "malformed response (not a JSON envelope)", attempts: 1),
            Malformed(
                name: "200 with success false", status: 200,
                body: #"{"success":false,"errors":[{"code":10001,"message":"Unable to authenticate request"}],"#
                    + #""messages":[],"result":null}"#,
                code: 10_001, messageContains: "Unable to authenticate request", attempts: 1),
            Malformed(
                name: "200 with success false and no errors", status: 200, body: #"{"success":false,"result":null}"#,
                code: nil, messageContains: #"{"success":false,"result":null}"#, attempts: 1),
            Malformed(
                name: "400 without errors", status: 400, body: #"{"success":false}"#, code: nil,
                messageContains: #"not a Cloudflare envelope: {"success":false}"#, attempts: 1),
            Malformed(
                name: "500 with an empty errors array", status: 500,
                body: #"{"success":false,"errors":[],"messages":[],"result":null}"#, code: nil,
                messageContains: #""errors":[]"#, attempts: 3),
            Malformed(
                name: "502 with an empty body", status: 502, body: "", code: nil,
                messageContains: "empty response body",
                attempts: 3),
            Malformed(
                name: "503 with an HTML page", status: 503, body: "<h1>503 Service Unavailable</h1>", code: nil,
                messageContains: "<h1>503 Service Unavailable</h1>", attempts: 3),
        ])
    func malformedEnvelopesGiveClearErrors(_ c: Malformed) async throws {
        try await FaultServer.with(Script.always(.answer(status: c.status, body: c.body))) { server in
            let client = server.client(.fast)
            let (error, _) = await failure {
                try await client.writeValue(namespaceID: server.namespaceID, key: "k", value: [1])
            }
            let api = try #require(error as? CloudflareAPIError, "\(String(describing: error))")
            #expect(api.status == c.status && api.code == c.code)
            #expect(api.message.contains(c.messageContains), "\(api.message)")
            #expect(api.attempts == c.attempts)
            #expect(server.log.count == c.attempts)
            expectNoSecret(api)
        }
    }

    // MARK: The token

    @Test func configurationAndCredentialsNeverShowTheSecret() async throws {
        let key = "global-key-c0ffee1234567890"
        let configurations = [
            CloudflareConfiguration(accountID: faultAccount, credentials: .token(faultToken)),
            CloudflareConfiguration(
                accountID: faultAccount, credentials: .globalKey(email: "ops@example.com", key: key)),
            try CloudflareConfiguration.fromEnvironment([
                "CLOUDFLARE_API_TOKEN": faultToken, "CLOUDFLARE_ACCOUNT_ID": faultAccount,
            ]),
        ]
        for configuration in configurations {
            expectNoSecret(configuration, secrets: [faultToken, key])
            expectNoSecret(configuration.credentials, secrets: [faultToken, key])
            expectNoSecret(CloudflareClient(configuration: configuration), secrets: [faultToken, key])
        }
        #expect(configurations[1].description.contains("ops@example.com"), "the email is not a secret")
    }

    /// A proxy that echoes the request's headers into its error page must not put the token into the error.
    @Test(arguments: [false, true])
    func anEchoedTokenIsRedacted(_ asEnvelope: Bool) async throws {
        let echo = Fault.custom { request, _, _ in
            let authorization = request.headers[.authorization] ?? ""
            let text = "bad gateway; you sent Authorization: \(authorization)"
            return Response.text(
                asEnvelope ? Fault.envelope(code: 502, message: text) : text, status: .badGateway)
        }
        try await FaultServer.with(Script.always(echo)) { server in
            let client = server.client(CloudflareRetryPolicy(maxAttempts: 1))
            let (error, _) = await failure {
                try await client.writeValue(namespaceID: server.namespaceID, key: "k", value: [1])
            }
            let api = try #require(error as? CloudflareAPIError)
            #expect(api.status == 502)
            #expect(api.message.contains("Authorization: Bearer [redacted]"), "\(api.message)")
            expectNoSecret(api)
        }
    }

    // MARK: Bulk writes

    static func bulkItems(_ count: Int) -> [(key: String, write: KVWrite)] {
        (0..<count).map { (key: String(format: "bulk-%06d", $0), write: KVWrite(value: Array("value-\($0)".utf8))) }
    }

    /// Passes a bulk write to the app and counts the items it carried.
    static func counting(_ received: @escaping @Sendable (Int) -> Void) -> Fault {
        .custom { request, context, app in
            let body = try await request.bytes(limit: 200_000_000)
            let count = try JSONValue(parsing: body).arrayValue?.count ?? 0
            received(count)
            return try await app(Request(head: request.head, body: .bytes(body)), context)
        }
    }

    @Test func aBulkWriteInterruptedByFaultsCompletes() async throws {
        let received = Mutex(0)
        let count: @Sendable (Int) -> Void = { n in received.withLock { $0 += n } }
        let faults: [Fault] = [
            .error(503, code: 10_503, message: "unavailable"), Self.counting(count),
            .rateLimited(["Retry-After": "1"]), Self.counting(count),
            .error(502, code: 10_502, message: "bad gateway"), .error(500, code: 10_500, message: "internal"),
            Self.counting(count),
        ]
        try await FaultServer.with({ index, _ in index < faults.count ? faults[index] : .pass }) { server in
            let remote = server.remote(
                server.client(CloudflareRetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(50))))
            let items = Self.bulkItems(25_000)  // three requests: 10,000, 10,000 and 5,000 items
            let (_, elapsed) = try await timed { try await remote.writeEntries(items) }
            #expect(server.log.count == 7)
            #expect(received.withLock { $0 } == 25_000, "the server received every item")
            #expect(seconds(elapsed) >= 0.95, "the 429 was waited out")
            let stored = try await server.namespace.readEntries(items.map(\.key))
            #expect(stored.count == 25_000)
            #expect(stored["bulk-024999"]?.value == Array("value-24999".utf8))
        }
    }

    /// The server writes all but some keys and says which: the error names exactly those.
    @Test func aBulkWriteReportsExactlyTheKeysThatDidNotLand() async throws {
        let refused: Set<String> = ["bulk-000007", "bulk-009999", "bulk-020000", "bulk-024999"]
        let partial = Fault.custom { request, context, app in
            let items = try JSONValue(parsing: try await request.bytes(limit: 200_000_000)).arrayValue ?? []
            let kept = items.filter { !refused.contains($0["key"]?.stringValue ?? "") }
            let dropped = items.compactMap { $0["key"]?.stringValue }.filter { refused.contains($0) }
            let forwarded = Request(head: request.head, body: .bytes(Array(JSONValue.array(kept).serialized.utf8)))
            let answer = try await app(forwarded, context)
            guard answer.status == .ok else { return answer }
            let result: JSONValue = [
                "successful_key_count": .int(Int64(kept.count)),
                "unsuccessful_keys": .array(dropped.map { .string($0) }),
            ]
            let body: JSONValue = ["success": true, "errors": [], "messages": [], "result": result]
            return Response.bytes(Array(body.serialized.utf8), contentType: "application/json")
        }
        try await FaultServer.with(Script.always(partial)) { server in
            let remote = server.remote(server.client())
            let items = Self.bulkItems(25_000)
            let (error, _) = await failure { try await remote.writeEntries(items) }
            let bulk = try #require(error as? CloudflareBulkError)
            #expect(bulk.unsuccessfulKeys == ["bulk-000007", "bulk-009999", "bulk-020000", "bulk-024999"])
            #expect(bulk.description.hasPrefix("4 keys did not land: bulk-000007, bulk-009999"))
            #expect(server.log.count == 3)
            let stored = try await server.namespace.readEntries(items.map(\.key))
            #expect(stored.count == 25_000 - 4)
            #expect(Set(items.map(\.key)).subtracting(stored.keys) == refused)
            expectNoSecret(bulk)
        }
    }

    /// The second of three requests fails for good: the first landed, and the error names every key of the
    /// second and third.
    @Test func aBulkWriteStoppedByAPersistentFaultNamesWhatDidNotLand() async throws {
        try await FaultServer.with({ index, _ in index == 0 ? .pass : .error(503, code: 10_503, message: "down") }) {
            server in
            let remote = server.remote(server.client(.fast))
            let items = Self.bulkItems(25_000)
            let (error, _) = await failure { try await remote.writeEntries(items) }
            let bulk = try #require(error as? CloudflareBulkError, "\(String(describing: error))")
            #expect(bulk.unsuccessfulKeys == items[10_000...].map(\.key))
            let cause = try #require(bulk.underlying as? CloudflareAPIError)
            #expect(cause.status == 503 && cause.code == 10_503 && cause.attempts == 3)
            #expect(bulk.description.contains("15000 keys did not land"))
            #expect(bulk.description.contains("Cloudflare API error 10503 (HTTP 503) after 3 attempts: down"))
            #expect(server.log.count == 4)
            let stored = try await server.namespace.readEntries(items.map(\.key))
            #expect(Set(stored.keys) == Set(items[..<10_000].map(\.key)))
            expectNoSecret(bulk)
        }
    }

    // MARK: Large values

    /// The largest value KV takes, raw, through the client and back; and a value with metadata, which travels as
    /// multipart (1 MiB: the app's multipart parser takes about 1.7 s per MiB in a debug build, 0.1 s per MiB in
    /// release, and a 25 MiB part would hold one of the test process's cooperative threads for 40 s).
    @Test(arguments: [(KVLimits.maxValueBytes, false), (1 << 20, true)])
    func aLargeValueRoundTripsByteExact(_ size: Int, _ withMetadata: Bool) async throws {
        try await FaultServer.with(Script.none) { server in
            // Random bytes from the kernel: a byte loop in a debug build would hold a cooperative thread for seconds.
            let value = try #require(FileHandle(forReadingAtPath: "/dev/urandom")).readData(ofLength: size)
                .withUnsafeBytes { [UInt8]($0) }
            try #require(value.count == size)
            let client = server.client(CloudflareRetryPolicy(maxAttempts: 1), requestTimeout: .seconds(120))
            let metadata: JSONValue? = withMetadata ? ["size": .int(Int64(value.count))] : nil
            try await client.writeValue(namespaceID: server.namespaceID, key: "big", value: value, metadata: metadata)
            let read = try await client.readValue(namespaceID: server.namespaceID, key: "big")
            #expect(read?.value.count == size)
            #expect(sameBytes(read?.value, value), "byte-exact through the client")
            #expect(sameBytes(try await server.namespace.readEntry("big")?.value, value), "byte-exact in the state")
            if withMetadata {
                #expect(try await client.readMetadata(namespaceID: server.namespaceID, key: "big") == metadata)
            }
            #expect(server.log.count == (withMetadata ? 3 : 2))
        }
    }

    // MARK: Helpers

    /// Byte-for-byte equality with `memcmp` (an element loop over 25 MiB is slow in a debug build).
    func sameBytes(_ a: [UInt8]?, _ b: [UInt8]) -> Bool {
        guard let a, a.count == b.count else { return false }
        guard !b.isEmpty else { return true }
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 }
        }
    }

    /// A client for a raw socket server.
    func rawClient(_ server: RawSocketServer, _ retry: CloudflareRetryPolicy) -> CloudflareClient {
        CloudflareClient(
            configuration: CloudflareConfiguration(
                baseURL: server.baseURL + "/client/v4", accountID: faultAccount, credentials: .token(faultToken),
                retry: retry, connectTimeout: .seconds(5), requestTimeout: .seconds(10), lanes: 1))
    }
}
