import EdgeKV
import Foundation

/// How the client authenticates. Its descriptions never show the secret.
public enum CloudflareCredentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// An API token, sent as `Authorization: Bearer …`.
    case token(String)
    /// A global API key with its account email, sent as `X-Auth-Key` and `X-Auth-Email`.
    case globalKey(email: String, key: String)

    var headers: [String] {
        switch self {
        case .token(let token): ["Authorization: Bearer \(token)"]
        case .globalKey(let email, let key): ["X-Auth-Email: \(email)", "X-Auth-Key: \(key)"]
        }
    }

    /// `text` with every occurrence of the secret replaced by `[redacted]`.
    func redacting(_ text: String) -> String {
        let secret =
            switch self {
            case .token(let token): token
            case .globalKey(_, let key): key
            }
        guard !secret.isEmpty, text.contains(secret) else { return text }
        return text.replacingOccurrences(of: secret, with: "[redacted]")
    }

    /// `API token (redacted)` or `global API key for <email> (redacted)`.
    public var description: String {
        switch self {
        case .token: "API token (redacted)"
        case .globalKey(let email, _): "global API key for \(email) (redacted)"
        }
    }

    /// Same as ``description``: the secret never appears.
    public var debugDescription: String { description }
}

extension CloudflareCredentials: CustomReflectable {
    /// A mirror without children, so that `dump` and other reflection show ``description``, never the secret.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .enum) }
}

/// When and how often a failed request is tried again.
public struct CloudflareRetryPolicy: Sendable {
    /// Attempts in all, the first included (at least 1).
    public var maxAttempts: Int
    /// The longest time from the first attempt to the last retry.
    public var deadline: Duration
    /// The first backoff delay; each retry doubles it, up to ``maxDelay``, with jitter.
    public var baseDelay: Duration
    /// The longest backoff delay.
    public var maxDelay: Duration
    /// The longest `Retry-After` (or `retry-after-ms`) honoured; a longer one gives up at once with the server's
    /// answer. Zero, a date already past, or a value that is not a delay gets the usual backoff.
    public var maxRetryAfter: Duration

    /// Creates a policy. The defaults: 4 attempts within 60 s, backoff 0.5 s doubling to 8 s.
    public init(
        maxAttempts: Int = 4, deadline: Duration = .seconds(60), baseDelay: Duration = .milliseconds(500),
        maxDelay: Duration = .seconds(8), maxRetryAfter: Duration = .seconds(60)
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.deadline = deadline
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
    }
}

/// Where the API is, who calls it, and how the transport behaves.
public struct CloudflareConfiguration: Sendable, CustomStringConvertible {
    /// The API base, including `/client/v4` (default `https://api.cloudflare.com/client/v4`).
    public var baseURL: String
    /// The account whose namespaces are used.
    public var accountID: String
    /// The credentials.
    public var credentials: CloudflareCredentials
    /// Retry behaviour.
    public var retry: CloudflareRetryPolicy
    /// How long a connection may take to establish.
    public var connectTimeout: Duration
    /// How long one request may take in all.
    public var requestTimeout: Duration
    /// A CA bundle file to verify TLS against (default: the system's).
    public var caBundle: String?
    /// How many requests may be in flight at once; each lane keeps one connection alive.
    public var lanes: Int

    /// The default API base.
    public static let defaultBaseURL = "https://api.cloudflare.com/client/v4"

    /// Creates a configuration.
    public init(
        baseURL: String = CloudflareConfiguration.defaultBaseURL, accountID: String, credentials: CloudflareCredentials,
        retry: CloudflareRetryPolicy = CloudflareRetryPolicy(), connectTimeout: Duration = .seconds(10),
        requestTimeout: Duration = .seconds(60), caBundle: String? = nil, lanes: Int = 4
    ) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.accountID = accountID
        self.credentials = credentials
        self.retry = retry
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.caBundle = caBundle
        self.lanes = lanes
    }

    /// The configuration the ecosystem's variables describe: `CLOUDFLARE_API_TOKEN` (or `CLOUDFLARE_API_KEY` with
    /// `CLOUDFLARE_EMAIL`), `CLOUDFLARE_ACCOUNT_ID`, and `CLOUDFLARE_API_BASE_URL`.
    /// - Throws: ``CloudflareConfigurationError`` naming the variable to set.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws
        -> CloudflareConfiguration
    {
        func value(_ name: String) -> String? {
            guard let v = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !v.isEmpty else {
                return nil
            }
            return v
        }
        let credentials: CloudflareCredentials
        if let token = value("CLOUDFLARE_API_TOKEN") {
            credentials = .token(token)
        } else if let key = value("CLOUDFLARE_API_KEY") {
            guard let email = value("CLOUDFLARE_EMAIL") else {
                throw CloudflareConfigurationError("CLOUDFLARE_API_KEY is set but CLOUDFLARE_EMAIL is not; set both")
            }
            credentials = .globalKey(email: email, key: key)
        } else {
            throw CloudflareConfigurationError(
                "no Cloudflare credentials: set CLOUDFLARE_API_TOKEN (or CLOUDFLARE_API_KEY and CLOUDFLARE_EMAIL)")
        }
        guard let account = value("CLOUDFLARE_ACCOUNT_ID") else {
            throw CloudflareConfigurationError("no Cloudflare account: set CLOUDFLARE_ACCOUNT_ID")
        }
        let base = value("CLOUDFLARE_API_BASE_URL") ?? defaultBaseURL
        guard let url = URL(string: base), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil
        else {
            throw CloudflareConfigurationError("CLOUDFLARE_API_BASE_URL is not an http(s) URL: \(base)")
        }
        return CloudflareConfiguration(baseURL: base, accountID: account, credentials: credentials)
    }

    /// Base URL, account and the kind of credentials — never the secret.
    public var description: String { "\(baseURL) account \(accountID) with \(credentials)" }
}

/// The configuration is incomplete.
public struct CloudflareConfigurationError: Error, Sendable, CustomStringConvertible {
    /// What to set.
    public let description: String
    init(_ description: String) { self.description = description }
}

/// An error answer from the API, with Cloudflare's `code` and `message`.
public struct CloudflareAPIError: Error, Sendable, CustomStringConvertible {
    /// The HTTP status.
    public let status: Int
    /// The first error's code, when the body is an envelope.
    public let code: Int?
    /// The first error's message (or a summary of a body that is not an envelope).
    public let message: String
    /// How many attempts were made.
    public let attempts: Int

    /// `Cloudflare API error 10009 (HTTP 404): get: 'key not found'`.
    public var description: String {
        let c = code.map { " \($0)" } ?? ""
        let tries = attempts > 1 ? " after \(attempts) attempts" : ""
        return "Cloudflare API error\(c) (HTTP \(status))\(tries): \(message)"
    }
}
