import Foundation

/// Names every template sees: jinja2's `range`, `namespace` and `dict`, and the two functions
/// transformers adds for chat templates, `raise_exception(msg)` and `strftime_now(fmt)`.
enum JinjaGlobals {
  static func make(_ interpreter: JinjaInterpreter) -> [String: JinjaValue] {
    [
      "range": .function(JinjaFunction(name: "range", body: range)),
      "namespace": .function(
        JinjaFunction(name: "namespace") { args in
          var attributes = JinjaDict()
          if case .dict(let d)? = args.positional.first { attributes = d }
          for (k, v) in args.keyword { attributes[.string(k)] = v }
          return .namespace(JinjaNamespace(attributes))
        }),
      "dict": .function(
        JinjaFunction(name: "dict") { args in
          var d = JinjaDict()
          switch args.positional.first {
          case .dict(let source)?: d = source
          case .array(let pairs)?, .tuple(let pairs)?, .generator(let pairs)?:
            for pair in pairs {
              let kv = try interpreter.iterate(pair)
              guard kv.count == 2 else {
                throw JinjaError(
                  .value, "dictionary update sequence element has length \(kv.count); 2 is required")
              }
              d[kv[0]] = kv[1]
            }
          default: break
          }
          for (k, v) in args.keyword { d[.string(k)] = v }
          return .dict(d)
        }),
      "raise_exception": .function(
        JinjaFunction(name: "raise_exception") { args in
          throw JinjaError(.raised, args.positional.first?.stringValue ?? "")
        }),
      "strftime_now": .function(
        JinjaFunction(name: "strftime_now") { [unowned interpreter] args in
          .string(strftime(args.positional.first?.stringValue ?? "", interpreter.now()))
        }),
    ]
  }

  private static func range(_ args: JinjaArguments) throws -> JinjaValue {
    let ints = try args.positional.map { v -> Int in
      guard let i = v.integer else {
        throw JinjaError(.type, "'\(v.pythonTypeName)' object cannot be interpreted as an integer")
      }
      return i
    }
    let (start, stop, step): (Int, Int, Int) =
      switch ints.count {
      case 1: (0, ints[0], 1)
      case 2: (ints[0], ints[1], 1)
      case 3: (ints[0], ints[1], ints[2])
      default: throw JinjaError(.type, "range expected at least 1 argument, got \(ints.count)")
      }
    guard step != 0 else { throw JinjaError(.value, "range() arg 3 must not be zero") }
    // The sandbox caps ranges (MAX_RANGE) so a template cannot exhaust memory.
    let values = Swift.stride(from: start, to: stop, by: step).prefix(100_000).map { JinjaValue.int($0) }
    return .array(values)
  }

  /// Python's `datetime.strftime` in the C locale, for the directives templates use.
  static func strftime(_ format: String, _ date: Date) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone.current
    let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
    let months = [
      "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
      "November", "December",
    ]
    let days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    let month = months[c.month! - 1]
    let day = days[c.weekday! - 1]
    func pad(_ n: Int, _ width: Int = 2) -> String {
      let s = String(n)
      return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    var out = ""
    var chars = Array(format)[...]
    while let ch = chars.popFirst() {
      guard ch == "%", let d = chars.popFirst() else {
        out.append(ch)
        continue
      }
      switch d {
      case "Y": out += String(c.year!)
      case "y": out += pad(c.year! % 100)
      case "m": out += pad(c.month!)
      case "d": out += pad(c.day!)
      case "e": out += (c.day! < 10 ? " " : "") + String(c.day!)
      case "H": out += pad(c.hour!)
      case "I": out += pad((c.hour! + 11) % 12 + 1)
      case "M": out += pad(c.minute!)
      case "S": out += pad(c.second!)
      case "p": out += c.hour! < 12 ? "AM" : "PM"
      case "B": out += month
      case "b", "h": out += String(month.prefix(3))
      case "A": out += day
      case "a": out += String(day.prefix(3))
      case "j": out += pad(calendar.ordinality(of: .day, in: .year, for: date) ?? 1, 3)
      case "%": out += "%"
      default: out += "%" + String(d)
      }
    }
    return out
  }
}
