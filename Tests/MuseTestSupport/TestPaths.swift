import Foundation

/// Where tests find their fixtures: the committed ones beside the tests, and what the fetch
/// scripts cache from PyPI (the real model from `Scripts/fixtures/fetch-smollm2.sh`, llama.cpp's vocab
/// files from `Scripts/fixtures/fetch-vocab.sh`). Nothing outside the repository and that cache is read.
public enum TestPaths {
  public static let repositoryRoot: URL = {
    var url = URL(fileURLWithPath: #filePath)
    while url.path != "/"
      && !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path)
    {
      url.deleteLastPathComponent()
    }
    return url
  }()

  public static let fixtures = repositoryRoot.appendingPathComponent("Tests/Fixtures")

  public static func fixture(_ relative: String) -> String { fixtures.appendingPathComponent(relative).path }

  public static var cacheDirectory: String {
    ProcessInfo.processInfo.environment["MUSE_CACHE_DIR"]
      ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/muse").path
  }

  /// A file the CI script builds before the tests; missing means the setup step was skipped,
  /// which is a failure, not a reason to skip.
  public static func cachedModel(_ name: String) throws -> String {
    let path = cacheDirectory + "/models/" + name
    guard FileManager.default.fileExists(atPath: path) else {
      throw MissingModel(path: path)
    }
    return path
  }

  /// The folder of llama.cpp's vocab-only GGUF files and their `.inp` / `.out` test vectors.
  public static var vocabDirectory: String { cacheDirectory + "/vocab" }

  /// `ggml-vocab-<name>.gguf` from llama.cpp's test vocabularies (49 MB in all, so fetched, not
  /// committed); missing means the setup step was skipped, which is a failure.
  public static func vocab(_ name: String) throws -> String {
    let path = vocabDirectory + "/ggml-vocab-\(name).gguf"
    guard FileManager.default.fileExists(atPath: path) else {
      throw MissingModel(path: path, fetchedBy: "Scripts/fixtures/fetch-vocab.sh")
    }
    return path
  }

  public static func smolLM2() throws -> String { try cachedModel("SmolLM2-135M-Instruct.Q4_1.gguf") }

  public struct MissingModel: Error, CustomStringConvertible {
    public let path: String
    public let fetchedBy: String
    public init(path: String, fetchedBy: String = "Scripts/fixtures/fetch-smollm2.sh") {
      self.path = path
      self.fetchedBy = fetchedBy
    }
    public var description: String {
      "\(path) is missing: run \(fetchedBy) (CI runs it before the tests)"
    }
  }

  /// Decodes a golden JSON file under Tests/Fixtures.
  public static func golden<T: Decodable>(_ relative: String, as type: T.Type) throws -> T {
    let data = try Data(contentsOf: fixtures.appendingPathComponent(relative))
    return try JSONDecoder().decode(T.self, from: data)
  }

  /// A fresh temporary directory for one test.
  public static func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("muse-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }
}
