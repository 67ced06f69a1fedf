import ArgumentParser
import Foundation

@main
struct Muse: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "muse",
    abstract: "Serve and run Mixture-of-Experts language models.",
    subcommands: [
      ServeCommand.self, KeysCommand.self, UsersCommand.self, UsageCommand.self, RunCommand.self,
      InspectCommand.self,
      TokenizeCommand.self, TemplateCommand.self, ConvertCommand.self, PerplexityCommand.self,
      BenchCommand.self,
    ])
}

/// Prints an error the way a person needs it (file, place, what was expected) and exits 1,
/// instead of ArgumentParser's generic rendering of non-validation errors.
func reportingErrors(_ body: () throws -> Void) throws {
  do {
    try body()
  } catch let error as ExitCode {
    throw error
  } catch {
    FileHandle.standardError.write(Data("muse: error: \(error)\n".utf8))
    throw ExitCode.failure
  }
}

func printError(_ message: String) {
  FileHandle.standardError.write(Data((message + "\n").utf8))
}
