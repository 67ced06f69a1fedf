import ArgumentParser
import Foundation
import MuseKernels

@main
struct Muse: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "muse",
    abstract: "Serve and run Mixture-of-Experts language models.",
    subcommands: [
      ServeCommand.self, KeysCommand.self, UsersCommand.self, UsageCommand.self, RunCommand.self,
      InspectCommand.self,
      TokenizeCommand.self, TemplateCommand.self, ConvertCommand.self, PerplexityCommand.self,
      BenchCommand.self, SchemaCommand.self, GuardCommand.self, CommitCommand.self, IdentityCommand.self,
      VerifyCommand.self, EvalCommand.self, ClaimsCommand.self, VerifyClaimCommand.self,
    ])

  /// ArgumentParser's entry point, after refusing a MUSE_KERNEL_LEVEL this CPU cannot run
  /// (every command that runs a model would otherwise start at a level nobody asked for).
  static func main() async {
    if let problem = KernelDispatch.environmentProblem {
      printError("muse: error: \(problem)")
      Foundation.exit(1)
    }
    do {
      var command = try parseAsRoot()
      if var asyncCommand = command as? AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
    } catch {
      exit(withError: error)
    }
  }
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

/// The values of an option that takes a comma-separated list of positive whole numbers
/// (`--threads 1,2`); anything else in the list is refused with a message naming the option.
func positiveIntegers(_ text: String, option: String, example: String) throws -> [Int] {
  let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
  guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else {
    throw ValidationError("\(option) takes positive whole numbers separated by commas, e.g. \(example)")
  }
  return values.compactMap { $0 }
}
