import Crypto
import Foundation

/// Reading the benchmark files under the data directory (see /work/shared/data/eval's README
/// for their formats), each error naming the file.
public enum EvalData {
  /// Where the data lives when `--data-dir` is not given: the cache `Scripts/eval/copy-data.sh`
  /// fills (`$MUSE_CACHE_DIR/eval`, else `~/.cache/muse/eval`).
  public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment)
    -> URL
  {
    if let cache = environment["MUSE_CACHE_DIR"], !cache.isEmpty {
      return URL(fileURLWithPath: cache).appendingPathComponent("eval")
    }
    let home = environment["HOME"] ?? NSHomeDirectory()
    return URL(fileURLWithPath: home).appendingPathComponent(".cache/muse/eval")
  }

  static func read(_ relative: String, in directory: URL) throws -> Data {
    let url = directory.appendingPathComponent(relative)
    guard FileManager.default.fileExists(atPath: url.path) else {
      throw EvalTaskError.missingData(
        file: url.path, hint: "pass --data-dir, or run Scripts/eval/copy-data.sh to fill the cache")
    }
    do { return try Data(contentsOf: url) } catch {
      throw EvalTaskError.badData(file: url.path, problem: "unreadable: \(error.localizedDescription)")
    }
  }

  /// One JSON object per line; blank lines skipped.
  static func jsonLines(_ relative: String, in directory: URL) throws -> [[String: Any]] {
    let data = try read(relative, in: directory)
    let text = String(decoding: data, as: UTF8.self)
    var rows: [[String: Any]] = []
    for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
      guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
        throw EvalTaskError.badData(
          file: directory.appendingPathComponent(relative).path,
          problem: "line \(number + 1) is not a JSON object")
      }
      rows.append(object)
    }
    return rows
  }

  /// A JSON array of objects.
  static func jsonArray(_ relative: String, in directory: URL) throws -> [[String: Any]] {
    let data = try read(relative, in: directory)
    guard let rows = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
      throw EvalTaskError.badData(
        file: directory.appendingPathComponent(relative).path, problem: "not a JSON array of objects")
    }
    return rows
  }

  /// The rows of an RFC 4180 CSV file (quoted fields with doubled quotes, commas and newlines
  /// inside quotes), header included.
  static func csv(_ relative: String, in directory: URL) throws -> [[String]] {
    let data = try read(relative, in: directory)
    guard let rows = CSVParser.parse(String(decoding: data, as: UTF8.self)) else {
      throw EvalTaskError.badData(
        file: directory.appendingPathComponent(relative).path, problem: "a quoted field is never closed")
    }
    return rows
  }

  /// The files of a folder with a suffix, sorted by name.
  static func files(in relative: String, suffix: String, under directory: URL) throws -> [String] {
    let folder = directory.appendingPathComponent(relative)
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else {
      throw EvalTaskError.missingData(
        file: folder.path, hint: "pass --data-dir, or run Scripts/eval/copy-data.sh to fill the cache")
    }
    return names.filter { $0.hasSuffix(suffix) }.sorted().map { relative + "/" + $0 }
  }

  /// SHA-256 over the task's files: for each, in order, its path, a NUL, its length and its
  /// bytes, so renaming or reordering changes the hash as content does.
  public static func datasetHash(files: [String], in directory: URL) throws -> String {
    var hasher = SHA256()
    for file in files {
      let data = try read(file, in: directory)
      hasher.update(data: Data(file.utf8) + Data([0]) + Data("\(data.count)".utf8) + Data([0]))
      hasher.update(data: data)
    }
    return hasher.finalize().map { String(format: "%02x", $0) }.joined()
  }

  static func string(_ row: [String: Any], _ key: String, file: String) throws -> String {
    guard let value = row[key] as? String else {
      throw EvalTaskError.badData(file: file, problem: "an item has no string '\(key)'")
    }
    return value
  }
}

/// RFC 4180 CSV (Python's `csv` module's default dialect for reading).
enum CSVParser {
  static func parse(_ text: String) -> [[String]]? {
    var rows: [[String]] = []
    var row: [String] = []
    var field = ""
    var inQuotes = false
    var scalars = Array(text.unicodeScalars)[...]
    while let c = scalars.popFirst() {
      if inQuotes {
        if c == "\"" {
          if scalars.first == "\"" {
            scalars.removeFirst()
            field.unicodeScalars.append("\"")
          } else {
            inQuotes = false
          }
        } else {
          field.unicodeScalars.append(c)
        }
      } else if c == "\"" {
        inQuotes = true
      } else if c == "," {
        row.append(field)
        field = ""
      } else if c == "\n" || c == "\r" {
        if c == "\r" && scalars.first == "\n" { scalars.removeFirst() }
        row.append(field)
        rows.append(row)
        row = []
        field = ""
      } else {
        field.unicodeScalars.append(c)
      }
    }
    if inQuotes { return nil }
    if !field.isEmpty || !row.isEmpty {
      row.append(field)
      rows.append(row)
    }
    return rows
  }
}
