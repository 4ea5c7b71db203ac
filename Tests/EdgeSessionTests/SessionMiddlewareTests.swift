import Edge
import EdgeKV
import EdgeKVTestSupport
import EdgeSession
import Foundation
import HTTPTypes
import Testing

/// The middleware's decisions, the same for all six stores, driven through ``EdgeRuntime`` on a manual clock.
@Suite("session() over every store")
struct SessionMiddlewareTests {
    // hattip flaw 9 (function defaults save every cookieless request) and the "no cookie, no entry" rule.
    @Test(arguments: StoreKind.allCases)
    func untouchedVisitorGetsNoCookieAndNoEntry(kind: StoreKind) async throws {
        for defaults in [SessionDefaultData<AppData>.value(AppData()), .function({ _ in AppData() })] {
            let harness = try await SessionHarness(kind, defaultData: defaults)
            var browser = Browser()
            for target in ["/noop", "/me", "/state"] {
                let response = await harness.send(&browser, target)
                #expect(response.setCookie() == nil, "\(target) set \(response.setCookies)")
            }
            #expect(try await harness.entryCount() ?? 0 == 0)
            #expect(browser.session == nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func modifiedSessionIsSavedAndLoadedBack(kind: StoreKind) async throws {
        let harness = try await SessionHarness(kind)
        var browser = Browser()
        let first = await harness.send(&browser, "/")
        #expect(try first.decode([String: Int].self) == ["visits": 1])
        #expect(first.setCookie() != nil)
        let second = await harness.send(&browser, "/")
        #expect(try second.decode([String: Int].self) == ["visits": 2])
        let state = try await harness.send(&browser, "/state").decode(StateBody.self)
        #expect(state.fresh == false)
        #expect(state.visits == 2)
        if kind.isServerSide {
            #expect(state.id == browser.session)
            #expect(try await harness.entryCount() == 1)
        } else {
            #expect(state.id == nil)
        }
    }

    // Saved only when the encoded data changed: an unchanged session is not written again (no cookie, same expiry).
    @Test(arguments: StoreKind.allCases)
    func unchangedSessionIsNotSavedAgain(kind: StoreKind) async throws {
        let harness = try await SessionHarness(kind)
        var browser = Browser()
        await harness.send(&browser, "/")
        let cookie = try #require(browser.session)
        let before = try await harness.load(cookie)
        harness.clock.advance(seconds: 10)
        for target in ["/state", "/me", "/noop"] {
            let response = await harness.send(&browser, target)
            #expect(response.setCookie() == nil, "\(target) re-sent the session: \(response.setCookies)")
        }
        #expect(browser.session == cookie)
        #expect(try await harness.load(cookie) == before)
    }

    // hattip flaw 6: regenerate() leaves the old entry behind. Here the old id stops loading at once.
    @Test(arguments: StoreKind.allCases)
    func regenerateIssuesANewIdKeepsTheDataAndDeletesTheOldEntry(kind: StoreKind) async throws {
        let harness = try await SessionHarness(kind)
        var browser = Browser()
        await harness.send(&browser, "/")
        await harness.send(&browser, "/")
        let old = try #require(browser.session)
        let login = await harness.send(&browser, .post, "/login?user=alice")
        #expect(login.status == .ok)
        let new = try #require(login.setCookie()?.value)
        #expect(new != old)
        let me = try await harness.send(&browser, "/me").decode(StateBody.self)
        #expect(me.user == "alice")
        #expect(me.visits == 2)
        if kind.isServerSide {
            #expect(try await harness.load(old) == nil)
            #expect(try await harness.entryCount() == 1)
            #expect(me.id == new)
            // The old cookie, replayed, is a fresh session.
            var stale = Browser()
            stale.session = old
            #expect(try await harness.send(&stale, "/state").decode(StateBody.self).fresh)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func regenerateOnAnUntouchedFreshSessionSavesNothing(kind: StoreKind) async throws {
        // A handler that only regenerates: nothing to protect, nothing written.
        let harness = try await SessionHarness(kind)
        var browser = Browser()
        await harness.send(&browser, .post, "/logout")
        #expect(browser.session == nil)
        #expect(try await harness.entryCount() ?? 0 == 0)
    }

    @Test(arguments: StoreKind.allCases)
    func destroyDeletesTheEntryAndClearsTheCookie(kind: StoreKind) async throws {
        let harness = try await SessionHarness(kind)
        var browser = Browser()
        await harness.send(&browser, .post, "/login")
        let cookie = try #require(browser.session)
        let logout = await harness.send(&browser, .post, "/logout")
        let cleared = try #require(logout.setCookie())
        #expect(cleared.isDeletion)
        #expect(cleared.attributes["path"] == "/")
        #expect(browser.session == nil)
        #expect(await harness.send(&browser, "/me").status == .unauthorized)
        if kind.isServerSide {
            #expect(try await harness.entryCount() == 0)
            var replay = Browser()
            replay.session = cookie
            #expect(await harness.send(&replay, "/me").status == .unauthorized)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func destroyWithoutASessionSendsNothing(kind: StoreKind) async throws {
        let harness = try await SessionHarness(kind)
        var browser = Browser()
        let response = await harness.send(&browser, .post, "/logout")
        #expect(response.setCookie() == nil)
    }

    // hattip flaw 11: an error turned into a 500 still saved the session. Here a throwing handler saves nothing.
    @Test(arguments: StoreKind.allCases)
    func aThrowingHandlerSavesNothing(kind: StoreKind) async throws {
        let harness = try await SessionHarness(kind)
        var newcomer = Browser()
        let failed = await harness.send(&newcomer, "/fail")
        #expect(failed.status == .internalServerError)
        #expect(failed.setCookie() == nil)
        #expect(try await harness.entryCount() ?? 0 == 0)

        var browser = Browser()
        await harness.send(&browser, "/")
        let before = try await harness.load(try #require(browser.session))
        let again = await harness.send(&browser, "/fail")
        #expect(again.status == .internalServerError)
        #expect(again.setCookie() == nil)
        #expect(try await harness.load(try #require(browser.session)) == before)
        #expect(try await harness.send(&browser, "/state").decode(StateBody.self).visits == 1)
    }

    // hattip flaw 5 (session fixation): an id that does not load is never adopted.
    @Test(arguments: StoreKind.allCases)
    func anIdThatDoesNotLoadIsNeverAdopted(kind: StoreKind) async throws {
        let harness = try await SessionHarness(kind)
        let planted = [SessionID.generate(), "attacker-chosen", "%7B%22visits%22%3A%22x%22%7D", "x.y.z"]
        for value in planted {
            var browser = Browser()
            browser.session = value
            let response = await harness.send(&browser, "/")
            #expect(response.status == .ok)
            #expect(try response.decode([String: Int].self) == ["visits": 1])
            let issued = try #require(response.setCookie()?.value)
            #expect(issued != value)
            if kind.isServerSide {
                #expect(SessionID.isWellFormed(issued))
                #expect(try await harness.load(value) == nil)
            }
        }
        if kind.isServerSide {
            #expect(try await harness.entryCount() == planted.count)
            // An id that expired is not revived either.
            var browser = Browser()
            await harness.send(&browser, "/")
            let old = try #require(browser.session)
            harness.clock.advance(seconds: 3600)
            await harness.send(&browser, "/")
            #expect(browser.session != old)
        }
    }

    // hattip flaws 1 (Max-Age in milliseconds) and 4 (no HttpOnly/SameSite/Path/Secure).
    @Test(arguments: StoreKind.allCases)
    func cookieAttributesAreSecureByDefault(kind: StoreKind) async throws {
        let harness = try await SessionHarness(kind)
        var plain = Browser()
        let cookie = try #require(await harness.send(&plain, "/").setCookie())
        #expect(cookie.maxAge == 3600)
        #expect(cookie.has("HttpOnly"))
        #expect(cookie.attributes["samesite"] == "Lax")
        #expect(cookie.attributes["path"] == "/")
        #expect(!cookie.has("Secure"))

        var tls = Browser()
        #expect(try #require(await harness.send(&tls, "/", scheme: "https").setCookie()).has("Secure"))
        var proxied = Browser()
        let forwarded = await harness.send(&proxied, "/", headers: [HTTPField.Name("X-Forwarded-Proto")!: "https"])
        #expect(try #require(forwarded.setCookie()).has("Secure"))
    }

    @Test(arguments: StoreKind.allCases)
    func maxAgeIsInSecondsForTheCookieAndTheStore(kind: StoreKind) async throws {
        let harness = try await SessionHarness(kind, maxAge: 120)
        var browser = Browser()
        let cookie = try #require(await harness.send(&browser, "/").setCookie())
        #expect(cookie.maxAge == 120)
        let stored = try #require(try await harness.load(cookie.value))
        if kind == .unsigned {
            #expect(stored.expiresAt == nil)
        } else {
            #expect(stored.expiresAt == (testEpoch + 120) * 1000)
        }
    }

    // The stored expiry and the expiry inside signed/encrypted cookies follow the context clock, strictly.
    @Test(arguments: StoreKind.allCases.filter { $0 != .unsigned })
    func sessionsExpireOnTheContextClock(kind: StoreKind) async throws {
        let harness = try await SessionHarness(kind, maxAge: 120)
        var browser = Browser()
        await harness.send(&browser, "/")
        harness.clock.advance(seconds: 119)
        let alive = try await harness.send(&browser, "/state").decode(StateBody.self)
        #expect(!alive.fresh)
        #expect(alive.visits == 1)
        harness.clock.advance(seconds: 1)
        let expired = try await harness.send(&browser, "/state").decode(StateBody.self)
        #expect(expired.fresh)
        #expect(expired.visits == 0)
    }

    // hattip flaw 3: no rolling expiry. Here an unchanged session is re-saved once the interval has passed.
    @Test(arguments: StoreKind.allCases)
    func rollingExpiryResavesAnUnchangedSessionAfterTheInterval(kind: StoreKind) async throws {
        let harness = try await SessionHarness(kind, maxAge: 600, rolling: RollingExpiry(minimumInterval: 60))
        var browser = Browser()
        await harness.send(&browser, "/")
        let first = try #require(browser.session)

        harness.clock.advance(seconds: 30)
        let early = await harness.send(&browser, "/state")
        if kind == .unsigned {
            // No expiry in an unsigned cookie: it is re-sent every time (no store write involved).
            #expect(early.setCookie()?.maxAge == 600)
        } else {
            #expect(early.setCookie() == nil)
        }

        harness.clock.advance(seconds: 40)  // 70 s after the save
        let due = try #require(await harness.send(&browser, "/state").setCookie())
        #expect(due.maxAge == 600)
        if kind.isServerSide { #expect(due.value == first) }
        if kind != .unsigned {
            let stored = try #require(try await harness.load(due.value))
            #expect(stored.expiresAt == (testEpoch + 70 + 600) * 1000)
            harness.clock.advance(seconds: 10)
            #expect(await harness.send(&browser, "/state").setCookie() == nil)
        }

        harness.clock.advance(seconds: 570)  // 650 s after the first save, 580 after the re-save
        let state = try await harness.send(&browser, "/state").decode(StateBody.self)
        #expect(!state.fresh)
        #expect(state.visits == 1)
    }

    @Test(arguments: StoreKind.allCases.filter { $0 != .unsigned })
    func withoutRollingAnUnchangedSessionExpiresOnSchedule(kind: StoreKind) async throws {
        let harness = try await SessionHarness(kind, maxAge: 600)
        var browser = Browser()
        await harness.send(&browser, "/")
        harness.clock.advance(seconds: 70)
        #expect(await harness.send(&browser, "/state").setCookie() == nil)
        harness.clock.advance(seconds: 530)
        #expect(try await harness.send(&browser, "/state").decode(StateBody.self).fresh)
    }

    // hattip flaw 12: a stored value that does not decode was a 500. Here it is a fresh session.
    @Test(arguments: StoreKind.allCases)
    func undecodableDataIsAFreshSessionNotAnError(kind: StoreKind) async throws {
        let harness = try await SessionHarness(kind)
        for json in [#"{"visits":"many"}"#, "[1,2]", "not json", ""] {
            let value = try await harness.store.save(nil, json, maxAge: 3600, context: harness.context())
            var browser = Browser()
            browser.session = SetCookie.encodeURIComponent(value)
            let response = await harness.send(&browser, "/state")
            #expect(response.status == .ok, "\(json) gave \(response.status)")
            #expect(try response.decode(StateBody.self).fresh)
        }
        #expect(harness.errors.isEmpty)
    }

    // Change detection compares encoded data, not stored text: a session another implementation stored with its
    // keys in another order is not rewritten by requests that only read it (a KV write each time, otherwise), and
    // is saved in the sorted form once it changes.
    @Test(arguments: StoreKind.allCases)
    func aSessionStoredInAnotherKeyOrderIsOnlySavedWhenItChanges(kind: StoreKind) async throws {
        let harness = try await SessionHarness(kind)
        let value = try await harness.store.save(
            nil, #"{"visits":2,"user":"alice"}"#, maxAge: 3600, context: harness.context())
        var browser = Browser()
        browser.session = SetCookie.encodeURIComponent(value)
        for _ in 0..<2 {
            let read = await harness.send(&browser, "/state")
            #expect(try read.decode(StateBody.self).visits == 2)
            #expect(read.setCookie() == nil, "a read re-sent the session: \(read.setCookies)")
        }
        #expect(try await harness.load(try #require(browser.session))?.data == #"{"visits":2,"user":"alice"}"#)
        let update = await harness.send(&browser, "/")
        #expect(try update.decode([String: Int].self) == ["visits": 3])
        #expect(try await harness.load(try #require(browser.session))?.data == #"{"user":"alice","visits":3}"#)
    }

    // hattip flaw 16: no size guard. A cookie over 4096 bytes fails the save with a clear error.
    @Test(arguments: StoreKind.allCases)
    func aCookieOver4096BytesFailsTheSave(kind: StoreKind) async throws {
        let harness = try await SessionHarness(kind)
        var browser = Browser()
        let fits = await harness.send(&browser, "/big?n=1000")
        #expect(fits.status == .ok)
        let response = await harness.send(&browser, "/big?n=5000")
        if kind.isServerSide {
            #expect(response.status == .ok)
            #expect(try #require(response.setCookie()).value.utf8.count == SessionID.length)
        } else {
            #expect(response.status == .internalServerError)
            #expect(response.setCookie() == nil)
            let error = try #require(harness.errors.last as? SessionError)
            #expect(error.code == .cookieTooLarge)
            #expect(error.description.contains("4096"))
            // The previous session is intact.
            #expect(try await harness.send(&browser, "/state").decode(StateBody.self).visits == 0)
            #expect(browser.session != nil)
        }
    }
}
