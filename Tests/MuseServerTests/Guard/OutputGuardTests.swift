import Foundation
import MuseJinja
import MuseStore
import Testing

@testable import MuseServer

/// A rail that finds each occurrence of a word (with a span, so it can redact), counting calls.
private final class WordRail: GuardRail, @unchecked Sendable {
  let name: String
  let word: String
  let canRedact = true
  private let lock = NSLock()
  private var count = 0
  var calls: Int { lock.withLock { count } }

  init(name: String = "word", _ word: String) {
    self.name = name
    self.word = word
  }

  func inspect(_ text: String) async throws -> [GuardFinding] {
    lock.withLock { count += 1 }
    var found: [GuardFinding] = []
    var from = text.startIndex
    while let r = text.range(of: word, range: from..<text.endIndex) {
      found.append(GuardFinding(category: "word", score: 1, range: r, replacement: "[W]"))
      from = r.upperBound
    }
    return found
  }
}

/// A rail that matches from a marker to the end of the text (like a PEM block with no END yet).
private struct OpenSpanRail: GuardRail {
  let name = "open"
  let canRedact = true
  func inspect(_ text: String) async throws -> [GuardFinding] {
    guard let r = text.range(of: "BEGIN") else { return [] }
    let end = text.range(of: "END", range: r.upperBound..<text.endIndex)?.upperBound ?? text.endIndex
    return [GuardFinding(category: "secret", score: 1, range: r.lowerBound..<end, replacement: "[SECRET]")]
  }
}

private struct FailingRail: GuardRail {
  let name = "broken"
  struct Broken: Error {}
  func inspect(_ text: String) async throws -> [GuardFinding] { throw Broken() }
}

private struct SlowRail: GuardRail {
  let name = "slow"
  func inspect(_ text: String) async throws -> [GuardFinding] {
    // Never answers in time: only the timeout can end the wait (cancellation ends the sleep).
    try await Task.sleep(for: .seconds(3600))
    return []
  }
}

/// A rail that remembers which user turn each check was given.
private final class TurnRail: GuardRail, @unchecked Sendable {
  let name = "turn"
  private let lock = NSLock()
  private var seen: [String?] = []
  var turns: [String?] { lock.withLock { seen } }
  func inspect(_ text: String) async throws -> [GuardFinding] { try await inspect(text, replyingTo: nil) }
  func inspect(_ text: String, replyingTo userTurn: String?) async throws -> [GuardFinding] {
    lock.withLock { seen.append(userTurn) }
    return []
  }
}

private func guardOf(
  _ rails: [(any GuardRail, GuardPolicy.Action)], window: Int = 16, failClosed: Bool = true,
  timeout: Duration = .seconds(5)
) -> ModelGuard {
  let rules = rails.map { rail, action in
    BoundRule(
      rail: rail, stage: .output, action: action, categories: nil, threshold: { _ in 0.5 }, timeout: timeout)
  }
  return ModelGuard(
    model: "m", policy: GuardPolicy(streamWindow: window), rules: [.output: rules], failClosed: failClosed)
}

private let context = GuardContext(requestID: "r", keyID: "k", model: "m")

/// Feeds `pieces` through a fresh filter; returns what the client would receive and the violation.
private func stream(_ pieces: [String], _ modelGuard: ModelGuard) async -> (
  String, GuardViolation?, [GuardEvent]
) {
  let filter = OutputGuard(guardrails: modelGuard, withTools: false, context: context)!
  var sent = ""
  for piece in pieces {
    switch await filter.process(piece) {
    case .text(let t): sent += t
    case .violation(let v): return (sent, v, filter.events())
    }
  }
  switch await filter.finish() {
  case .text(let t): return (sent + t, nil, filter.events())
  case .violation(let v): return (sent, v, filter.events())
  }
}

private func characters(_ s: String) -> [String] { s.map(String.init) }

@Suite struct OutputGuardTests {
  static let reply =
    "Here is the plan. First we gather the parts, then we assemble the forbidden device in the garage, and finally we test it."

  @Test func aBlockedWordMidStreamIsNeverSentAndTheStreamStopsWithinTheWindow() async {
    let rail = WordRail("forbidden")
    let (sent, violation, events) = await stream(characters(Self.reply), guardOf([(rail, .block)]))
    #expect(violation?.rail == "word" && violation?.category == "word" && violation?.stage == .output)
    #expect(!sent.contains("forbidden") && !sent.contains("forb"))
    #expect(Self.reply.hasPrefix(sent))
    let at = Self.reply.distance(
      from: Self.reply.startIndex, to: Self.reply.range(of: "forbidden")!.lowerBound)
    // Stopped within the window: at most `window` characters before the word were still held.
    #expect(sent.count >= at - 2 * 16 && sent.count <= at)
    #expect(events.count == 1 && events[0].verdict == "block")
  }

  @Test func theSameVerdictWhetherTheReplyComesInOnePieceOrCharacterByCharacter() async {
    let g = guardOf([(WordRail("forbidden"), .block)])
    let (whole, v1, _) = await stream([Self.reply], g)
    let (pieces, v2, _) = await stream(characters(Self.reply), g)
    #expect(v1 == v2 && v1 != nil)
    #expect(whole.isEmpty)  // one piece is checked as a whole before any of it is released
    #expect(!pieces.contains("forbidden"))
  }

  @Test func aSpanSplitAcrossPiecesIsRedactedWholeAndTheRestPassesUnchanged() async {
    let g = guardOf([(WordRail("forbidden"), .redact)])
    let expected = Self.reply.replacingOccurrences(of: "forbidden", with: "[W]")
    for size in [1, 2, 3, 5, 7, 16, 40, 200] {
      var pieces: [String] = []
      var rest = Substring(Self.reply)
      while !rest.isEmpty {
        pieces.append(String(rest.prefix(size)))
        rest = rest.dropFirst(size)
      }
      let (sent, violation, events) = await stream(pieces, g)
      #expect(violation == nil)
      #expect(sent == expected, "pieces of \(size)")
      #expect(events.count == 1 && events[0].verdict == "redact" && events[0].redacted)
    }
  }

  @Test func aSpanThatMayStillGrowIsHeldUntilItEnds() async {
    let text = "public part BEGIN secret material that goes on and on for a long while END and after"
    let (sent, _, _) = await stream(characters(text), guardOf([(OpenSpanRail(), .redact)], window: 8))
    #expect(sent == "public part [SECRET] and after")
    let unterminated = "public part BEGIN secret material that never ends"
    let (cut, _, _) = await stream(characters(unterminated), guardOf([(OpenSpanRail(), .redact)], window: 8))
    #expect(cut == "public part [SECRET]")
  }

  @Test func railsRunAboutOncePerWindowNotOncePerToken() async {
    let rail = WordRail("zzz")
    let text = String(repeating: "abcdefgh ", count: 40)  // 360 characters
    let (sent, _, events) = await stream(characters(text), guardOf([(rail, .flag)], window: 32))
    #expect(sent == text)
    #expect(rail.calls <= 360 / 32 + 2)
    #expect(events.count == 1 && events[0].verdict == "pass")
  }

  @Test func flagsPassTheTextAndRecordOneEvent() async {
    let (sent, violation, events) = await stream(
      characters(Self.reply), guardOf([(WordRail("device"), .flag)]))
    #expect(sent == Self.reply && violation == nil)
    #expect(events.map(\.verdict) == ["flag"] && events[0].category == "word")
  }

  @Test func aFailingRailFailsClosedOrOpenAsThePolicySays() async {
    let (closedSent, closed, closedEvents) = await stream(
      characters(Self.reply), guardOf([(FailingRail(), .block)]))
    #expect(closed?.category == GuardViolation.railFailed && closedSent.isEmpty)
    #expect(closedEvents.map(\.verdict) == ["error"])
    let (openSent, open, openEvents) = await stream(
      characters(Self.reply), guardOf([(FailingRail(), .block)], failClosed: false))
    #expect(open == nil && openSent == Self.reply)
    #expect(openEvents.map(\.verdict) == ["error"])
  }

  @Test func aRailPastItsTimeoutCountsAsFailed() async {
    let (_, violation, events) = await stream(
      ["short reply"], guardOf([(SlowRail(), .block)], timeout: .milliseconds(50)))
    #expect(violation?.category == GuardViolation.railFailed)
    #expect(events.map(\.verdict) == ["error"])
  }

  @Test func inputScreeningRedactsEachTextAndAuditsOncePerRule() async {
    let g = ModelGuard(
      model: "m", policy: GuardPolicy(allow: ["forbidden zone"]),
      rules: [
        .input: [
          BoundRule(
            rail: WordRail("secret"), stage: .input, action: .redact, categories: nil,
            threshold: { _ in 0.5 },
            timeout: .seconds(5))
        ]
      ], failClosed: true)
    let (texts, events, violation) = await g.screen(
      [
        ("messages[0].content", "a secret"), ("messages[1].content", "no"),
        ("messages[2].content", "secret, secret"),
      ],
      stage: .input, context: context)
    #expect(violation == nil)
    #expect(texts == ["a [W]", "no", "[W], [W]"])
    #expect(events.count == 1 && events[0].verdict == "redact" && events[0].requestID == "r")
  }

  @Test func allowListedSpansAreNotActedOn() async {
    let g = ModelGuard(
      model: "m", policy: GuardPolicy(allow: ["SECRET"]),
      rules: [
        .input: [
          BoundRule(
            rail: WordRail("secret"), stage: .input, action: .block, categories: nil, threshold: { _ in 0.5 },
            timeout: .seconds(5))
        ]
      ], failClosed: true)
    let (_, events, violation) = await g.screen([("prompt", "the secret")], stage: .input, context: context)
    #expect(violation == nil && events.map(\.verdict) == ["pass"])
  }

  @Test func everyOutputCheckGetsTheUsersTurn() async {
    let rail = TurnRail()
    let asked = GuardContext(requestID: "r", keyID: "k", model: "m", userTurn: "What is a fuse?")
    let filter = OutputGuard(guardrails: guardOf([(rail, .block)]), withTools: false, context: asked)!
    for piece in characters(Self.reply) { _ = await filter.process(piece) }
    _ = await filter.finish()
    #expect(rail.turns.count > 1 && rail.turns.allSatisfy { $0 == "What is a fuse?" })
  }

  @Test func theLastUserTurnOfTheMessages() {
    let messages: [JinjaValue] = [
      ["role": "system", "content": "Be brief."], ["role": "user", "content": "first"],
      ["role": "assistant", "content": "ok"],
      ["role": "user", "content": .array([["type": "text", "text": "a"], ["type": "text", "text": "b"]])],
      ["role": "tool", "content": "result"],
    ]
    // Text parts joined as the template sees them (RequestPrompt.flattenTextParts).
    #expect(GuardContext.lastUserTurn(in: messages) == "ab")
    #expect(GuardContext.lastUserTurn(in: Array(messages.prefix(2))) == "first")
    #expect(GuardContext.lastUserTurn(in: [["role": "system", "content": "x"]]) == nil)
  }
}
