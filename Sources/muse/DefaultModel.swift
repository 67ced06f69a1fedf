import ArgumentParser
import Foundation

/// The model Muse runs when none is named: SmolLM2-135M-Instruct, which the project's setup
/// (`Scripts/fetch-smollm2.sh`) caches from its PyPI package.
enum DefaultModel {
  static var cacheDirectory: String {
    ProcessInfo.processInfo.environment["MUSE_CACHE_DIR"]
      ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/muse").path
  }

  static var path: String { cacheDirectory + "/models/SmolLM2-135M-Instruct.Q4_1.gguf" }

  /// `given`, or the default model when it is cached.
  static func resolve(_ given: String?) throws -> String {
    if let given { return given }
    guard FileManager.default.fileExists(atPath: path) else {
      throw ValidationError(
        "no --model given and the default model is not at \(path); run Scripts/fetch-smollm2.sh to fetch it")
    }
    return path
  }
}
