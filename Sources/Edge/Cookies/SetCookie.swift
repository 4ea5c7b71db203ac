import EdgeSupport
import Foundation

/// `SameSite` values.
public enum SameSite: String, Sendable, Hashable {
    /// `SameSite=Strict`.
    case strict = "Strict"
    /// `SameSite=Lax`.
    case lax = "Lax"
    /// `SameSite=None` (browsers require `Secure` with it).
    case none = "None"
}

/// `Priority` values.
public enum CookiePriority: String, Sendable, Hashable {
    /// `Priority=Low`.
    case low = "Low"
    /// `Priority=Medium`.
    case medium = "Medium"
    /// `Priority=High`.
    case high = "High"
}

/// The attributes of a `Set-Cookie`.
public struct CookieOptions: Sendable, Hashable {
    /// `Max-Age` in **seconds**.
    public var maxAge: Int?
    /// `Domain`.
    public var domain: String?
    /// `Path`.
    public var path: String?
    /// `Expires`, written as an HTTP date.
    public var expires: Date?
    /// `HttpOnly`.
    public var httpOnly: Bool
    /// `Secure`.
    public var secure: Bool
    /// `Partitioned`.
    public var partitioned: Bool
    /// `Priority`.
    public var priority: CookiePriority?
    /// `SameSite`.
    public var sameSite: SameSite?
    /// Whether the value is written with `encodeURIComponent` (the default, as in the `cookie` package). When
    /// false the value must already consist of cookie-octets.
    public var encodeValue: Bool

    /// Creates options.
    public init(
        maxAge: Int? = nil, domain: String? = nil, path: String? = nil, expires: Date? = nil, httpOnly: Bool = false,
        secure: Bool = false, partitioned: Bool = false, priority: CookiePriority? = nil, sameSite: SameSite? = nil,
        encodeValue: Bool = true
    ) {
        self.maxAge = maxAge
        self.domain = domain
        self.path = path
        self.expires = expires
        self.httpOnly = httpOnly
        self.secure = secure
        self.partitioned = partitioned
        self.priority = priority
        self.sameSite = sameSite
        self.encodeValue = encodeValue
    }
}

/// A cookie name, value or attribute that cannot be written.
public struct CookieError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong.
    public let description: String
}

/// One validated `Set-Cookie` header value.
public struct SetCookie: Sendable, Hashable, CustomStringConvertible {
    /// The cookie name.
    public let name: String
    /// The value as given (before encoding).
    public let value: String
    /// The value as it is on the wire: `value` after `encodeURIComponent` when ``CookieOptions/encodeValue`` is set.
    public let encodedValue: String
    /// The attributes.
    public let options: CookieOptions
    /// The header value: `name=value; Max-Age=…; Domain=…; Path=…; Expires=…; HttpOnly; Secure; Partitioned;
    /// Priority=…; SameSite=…` — the `cookie` package's order.
    public let headerValue: String

    /// Validates and serialises a cookie.
    /// - Throws: ``CookieError`` for a name that is not an RFC 7230 token, a value (after encoding) that is not
    ///   RFC 6265 cookie-octets (optionally inside one pair of double quotes), or a domain/path with `;`, control
    ///   characters or non-ASCII characters.
    public init(name: String, value: String, options: CookieOptions = CookieOptions()) throws {
        self = try SetCookieTemplate(name: name, options: options).cookie(value: value)
    }

    fileprivate init(name: String, value: String, encodedValue: String, options: CookieOptions, headerValue: String) {
        self.name = name
        self.value = value
        self.encodedValue = encodedValue
        self.options = options
        self.headerValue = headerValue
    }

    /// The header value.
    public var description: String { headerValue }

    static func isTokenByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: "!#$%&'*+-.^_`|~".utf8.contains(c)
        }
    }

    /// RFC 6265 cookie-octet: 0x21, 0x23–0x2B, 0x2D–0x3A, 0x3C–0x5B, 0x5D–0x7E.
    static func isCookieOctet(_ c: UInt8) -> Bool {
        c == 0x21 || (0x23...0x2B).contains(c) || (0x2D...0x3A).contains(c) || (0x3C...0x5B).contains(c)
            || (0x5D...0x7E).contains(c)
    }

    /// RFC 6265 cookie-value: `*cookie-octet / ( DQUOTE *cookie-octet DQUOTE )`.
    static func isCookieValue(_ s: String) -> Bool {
        var octets = Substring(s).utf8
        if octets.count >= 2, octets.first == UInt8(ascii: "\""), octets.last == UInt8(ascii: "\"") {
            octets = octets.dropFirst().dropLast()
        }
        return octets.allSatisfy(isCookieOctet)
    }

    /// RFC 6265 path-value (and what a domain may hold): any US-ASCII character but controls and `;`.
    static func isAttributeValue(_ s: String) -> Bool {
        s.utf8.allSatisfy { (0x20...0x7E).contains($0) && $0 != UInt8(ascii: ";") }
    }

    /// JavaScript's `encodeURIComponent`: everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )` percent-encoded as UTF-8.
    public static func encodeURIComponent(_ s: String) -> String {
        PercentCoding.encode(s, keeping: .uriComponent)
    }
}

/// A cookie's name and attributes, validated and serialised once, for a cookie that many responses set with
/// different values (a session cookie, say).
public struct SetCookieTemplate: Sendable, Hashable {
    /// The cookie name.
    public let name: String
    /// The attributes.
    public let options: CookieOptions
    /// `; Max-Age=…; Domain=…; …` in the `cookie` package's order.
    private let attributes: String

    /// Validates a cookie's name and attributes.
    /// - Throws: ``CookieError`` for a name that is not an RFC 7230 token or a domain/path with `;`, control
    ///   characters or non-ASCII characters.
    public init(name: String, options: CookieOptions = CookieOptions()) throws {
        guard !name.isEmpty, name.utf8.allSatisfy(SetCookie.isTokenByte) else {
            throw CookieError(
                description: "invalid cookie name \(String(reflecting: name)): it must be an RFC 7230 token")
        }
        var out = ""
        if let maxAge = options.maxAge { out += "; Max-Age=" + String(maxAge) }
        if let domain = options.domain {
            guard SetCookie.isAttributeValue(domain) else {
                throw CookieError(description: "invalid Domain for cookie \(name): \(String(reflecting: domain))")
            }
            out += "; Domain=" + domain
        }
        if let path = options.path {
            guard SetCookie.isAttributeValue(path) else {
                throw CookieError(description: "invalid Path for cookie \(name): \(String(reflecting: path))")
            }
            out += "; Path=" + path
        }
        if let expires = options.expires { out += "; Expires=" + HTTPDate.format(expires) }
        if options.httpOnly { out += "; HttpOnly" }
        if options.secure { out += "; Secure" }
        if options.partitioned { out += "; Partitioned" }
        if let priority = options.priority { out += "; Priority=" + priority.rawValue }
        if let sameSite = options.sameSite { out += "; SameSite=" + sameSite.rawValue }
        self.name = name
        self.options = options
        attributes = out
    }

    /// The cookie with `value`, encoded with `encodeURIComponent` when ``CookieOptions/encodeValue`` is set.
    /// - Throws: ``CookieError`` when `encodeValue` is off and the value is not RFC 6265 cookie-octets (optionally
    ///   inside one pair of double quotes).
    public func cookie(value: String) throws -> SetCookie {
        let encoded: String
        if options.encodeValue {
            // encodeURIComponent leaves only unreserved characters and %XX escapes: all cookie-octets.
            encoded = SetCookie.encodeURIComponent(value)
        } else {
            guard SetCookie.isCookieValue(value) else {
                throw CookieError(description: "invalid value for cookie \(name): it must consist of cookie-octets")
            }
            encoded = value
        }
        var header = ""
        header.reserveCapacity(name.utf8.count + 1 + encoded.utf8.count + attributes.utf8.count)
        header += name
        header += "="
        header += encoded
        header += attributes
        return SetCookie(name: name, value: value, encodedValue: encoded, options: options, headerValue: header)
    }
}

/// IMF-fixdate formatting and parsing (`Thu, 01 Jan 1970 00:00:00 GMT`).
public enum HTTPDate {
    /// Formats a date.
    public static func format(_ date: Date) -> String { IMFDate.format(date) }

    /// Parses an IMF-fixdate (also accepting `-` between date parts and two-digit years, as browsers do); nil when
    /// it is not one or names a time that does not exist (`32 Jan`, `31 Feb`, `24:00:00`, `08:60:00`).
    public static func parse(_ text: String) -> Date? { IMFDate.parse(text) }
}
