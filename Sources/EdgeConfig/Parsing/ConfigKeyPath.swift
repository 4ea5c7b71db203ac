/// The dotted path of a value inside a configuration file, as shown in error messages:
/// `env.staging.kv_namespaces[1].binding`. Keys that are not bare TOML keys are quoted.
struct ConfigKeyPath: Sendable, Equatable, CustomStringConvertible {
    private enum Component: Sendable, Equatable {
        case key(String)
        case index(Int)
    }

    private var components: [Component] = []

    static let root = ConfigKeyPath()

    func appending(_ key: String) -> ConfigKeyPath {
        var copy = self
        copy.components.append(.key(key))
        return copy
    }

    func appending(index: Int) -> ConfigKeyPath {
        var copy = self
        copy.components.append(.index(index))
        return copy
    }

    var description: String {
        var text = ""
        for component in components {
            switch component {
            case .key(let key):
                if !text.isEmpty {
                    text += "."
                }
                text += Self.isBareKey(key) ? key : ConfigValue.jsonQuoted(key)
            case .index(let index):
                text += "[\(index)]"
            }
        }
        return text
    }

    private static func isBareKey(_ key: String) -> Bool {
        !key.isEmpty
            && key.unicodeScalars.allSatisfy { scalar in
                switch scalar {
                case "A"..."Z", "a"..."z", "0"..."9", "_", "-": true
                default: false
                }
            }
    }
}
