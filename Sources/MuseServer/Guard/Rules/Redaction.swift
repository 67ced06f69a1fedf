import Foundation

/// `text` with every finding that has both a span and a replacement written over: the policy
/// engine's redact action. Findings may come in any order; where two spans overlap, the one that
/// starts first (the longer at a tie) is applied and the other skipped, so the result never
/// interleaves two replacements. The ranges must be indices of `text` (the rails hand back
/// ranges into the text they inspected); they are rounded down to Unicode scalar boundaries.
public func redacting(_ text: String, _ findings: [GuardFinding]) -> String {
  var spans: [(range: Range<String.Index>, replacement: String)] = []
  for finding in findings {
    if let range = finding.range, let replacement = finding.replacement {
      spans.append((range, replacement))
    }
  }
  if spans.isEmpty { return text }
  spans.sort {
    $0.range.lowerBound != $1.range.lowerBound
      ? $0.range.lowerBound < $1.range.lowerBound : $0.range.upperBound > $1.range.upperBound
  }
  let scalars = text.unicodeScalars
  var result = String.UnicodeScalarView()
  var cursor = scalars.startIndex
  for span in spans where span.range.lowerBound >= cursor {
    result.append(contentsOf: scalars[cursor..<span.range.lowerBound])
    result.append(contentsOf: span.replacement.unicodeScalars)
    cursor = span.range.upperBound
  }
  result.append(contentsOf: scalars[cursor...])
  return String(result)
}
