import Edge
import EdgeHTTP
import EdgeKVTestSupport
import HTTPTypes
import Synchronization
import Testing

/// `ctx.waitUntil`: work that runs once the response is produced and is awaited before shutdown (or, when asked,
/// before the invocation returns).
@Suite struct WaitUntilTests {
    @Test func workRunsAfterTheResponseIsProduced() async throws {
        let log = EventLog()
        let runtime = EdgeRuntime(logger: quietLogger) { _, context in
            context.waitUntil { log.append("work") }
            // Give a work item that started early every chance to run before the handler finishes.
            try await Task.sleep(for: .milliseconds(50))
            log.append("handler returns")
            return .text("ok")
        }
        let response = await runtime.handle(Request(method: .get, "/"), awaitBackgroundWork: true)
        #expect(response.status == .ok)
        #expect(log.all == ["handler returns", "work"])
    }

    @Test func responseDoesNotWaitForTheWorkUnlessAsked() async throws {
        let gate = Gate()
        let done = EventLog()
        let runtime = EdgeRuntime(logger: quietLogger) { _, context in
            context.waitUntil {
                await gate.wait()
                done.append("work")
            }
            return .text("ok")
        }
        // The work cannot finish until the gate opens, which happens only after the response is back.
        let response = await runtime.handle(Request(method: .get, "/"))
        #expect(response.status == .ok)
        #expect(done.all.isEmpty)
        gate.open()
        await runtime.shutdown()
        #expect(done.all == ["work"])
    }

    @Test func awaitBackgroundWorkWaitsForAllOfIt() async throws {
        let log = EventLog()
        let runtime = EdgeRuntime(logger: quietLogger) { request, context in
            for i in 0..<3 {
                context.waitUntil {
                    try? await Task.sleep(for: .milliseconds(30 * (3 - i)))
                    log.append("work \(i)")
                    if i == 0 {
                        // Work added by work is awaited too.
                        context.waitUntil {
                            try? await Task.sleep(for: .milliseconds(20))
                            log.append("nested")
                        }
                    }
                }
            }
            return .text("ok")
        }
        _ = await runtime.handle(Request(method: .get, "/"), awaitBackgroundWork: true)
        #expect(Set(log.all) == ["work 0", "work 1", "work 2", "nested"])
        #expect(log.all.count == 4)
    }

    @Test(.timeLimit(.minutes(3))) func awaitingOneRequestDoesNotWaitForAnother() async throws {
        let slowGate = Gate()
        let runtime = EdgeRuntime(logger: quietLogger) { request, context in
            if request.path == "/slow" { context.waitUntil { await slowGate.wait() } }
            return .text(request.path)
        }
        _ = await runtime.handle(Request(method: .get, "/slow"))
        let log = EventLog()
        let fast = await runtime.handle(Request(method: .get, "/fast"), awaitBackgroundWork: true)
        log.append("fast returned")
        #expect(fast.status == .ok)
        slowGate.open()
        await runtime.shutdown()
        #expect(log.all == ["fast returned"])
    }

    @Test func workOfAFailedRequestStillRuns() async throws {
        let log = EventLog()
        let runtime = EdgeRuntime(logger: quietLogger) { _, context in
            context.waitUntil { log.append("cleanup") }
            throw SecretError()
        }
        let response = await runtime.handle(Request(method: .get, "/"), awaitBackgroundWork: true)
        #expect(response.status == .internalServerError)
        #expect(log.all == ["cleanup"])
    }

    @Test(.timeLimit(.minutes(3))) func overHTTPTheResponseArrivesFirstAndStopAwaitsTheWork() async throws {
        let gate = Gate()
        let log = EventLog()
        let runtime = EdgeRuntime(logger: quietLogger) { _, context in
            context.waitUntil {
                await gate.wait()
                try? await Task.sleep(for: .milliseconds(300))
                log.append("work done")
            }
            return .text("ok")
        }
        let server = try await EdgeServer(
            runtime: runtime, configuration: EdgeServer.Configuration(port: 0, logger: quietLogger)
        ).start()
        let response = try await HTTPTestClient(port: server.port, timeout: .seconds(10)).request("GET", "/")
        #expect(response.status == 200)
        #expect(response.text == "ok")
        #expect(log.all.isEmpty)
        gate.open()
        try await server.stop()
        #expect(log.all == ["work done"])
    }

    @Test func standaloneContextStartsWorkAtOnce() async throws {
        let background = BackgroundWork()
        let context = Context(
            platform: Platform(env: Env()), request: Request(method: .get, "/"), background: background)
        let log = EventLog()
        context.waitUntil { log.append("ran") }
        await background.wait()
        #expect(log.all == ["ran"])
    }
}
