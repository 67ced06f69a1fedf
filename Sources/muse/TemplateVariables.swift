import ArgumentParser
import MuseJinja
import MuseModels

/// `--var key=value` options: the value is JSON when it parses (true, 3, "x", [..]), else text.
func templateVariables(_ assignments: [String]) throws -> [String: JinjaValue] {
  var extra: [String: JinjaValue] = [:]
  for assignment in assignments {
    let parts = assignment.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
    guard parts.count == 2, !parts[0].isEmpty else {
      throw ValidationError("--var takes key=value, not '\(assignment)'")
    }
    let text = String(parts[1])
    extra[String(parts[0])] = (try? JinjaValue(json: text)) ?? .string(text)
  }
  return extra
}
