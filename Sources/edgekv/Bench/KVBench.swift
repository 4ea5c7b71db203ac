import ArgumentParser
struct KVBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kv")
    func run() async throws { throw CLIError("pending") }
}
