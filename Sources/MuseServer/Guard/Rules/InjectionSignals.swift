import Foundation

/// One sign of an attack: a word pattern (over the normalised words) or a literal marker (over
/// the normalised text with its whitespace removed), its weight, and its group — within a group
/// only the strongest matched signal counts, so one phrase that several patterns describe is
/// counted once.
struct InjectionSignal {
  enum Category { case promptInjection, jailbreak }
  enum Form {
    case words(WordPattern)
    case marker(String)
  }

  var category: Category
  var group: String
  var weight: Double
  var form: Form

  /// Category and group: the key the strongest weight per group is kept under.
  var key: String

  init(category: Category, group: String, weight: Double, form: Form) {
    self.category = category
    self.group = group
    self.weight = weight
    self.form = form
    key = "\(category == .jailbreak ? "j" : "p")/\(group)"
  }

  static func words(_ category: Category, _ group: String, _ weight: Double, _ spec: String)
    -> InjectionSignal
  {
    InjectionSignal(category: category, group: group, weight: weight, form: .words(WordPattern(spec)))
  }

  static func marker(_ category: Category, _ group: String, _ weight: Double, _ text: String)
    -> InjectionSignal
  {
    InjectionSignal(category: category, group: group, weight: weight, form: .marker(text))
  }
}

/// A sequence of word slots, written as a small spec: slots separated by spaces, alternatives
/// by `|`, the words of a multi-word alternative joined by `_`, a trailing `*` matching any
/// word with that prefix, and `~N` letting up to N arbitrary words pass
/// (`ignore ~3 previous|prior instruction*`).
struct WordPattern {
  enum Step {
    case oneOf([[String]])
    case gap(Int)
  }

  let steps: [Step]

  init(_ spec: String) {
    steps = spec.split(separator: " ").map { token in
      if token.hasPrefix("~"), let n = Int(token.dropFirst()) { return .gap(n) }
      return .oneOf(token.split(separator: "|").map { $0.split(separator: "_").map(String.init) })
    }
    if case .oneOf(let alternatives) = steps.first, alternatives.allSatisfy({ !$0[0].hasSuffix("*") }) {
      firstWords = alternatives.map { $0[0] }
    } else {
      firstWords = nil
    }
  }

  /// The words a match must start with, when the first slot has no prefix (`*`) alternative:
  /// only their positions need trying.
  let firstWords: [String]?

  /// Whether the pattern matches `words` starting anywhere; `positions` indexes the words.
  func matches(_ words: [String], positions: [String: [Int]]) -> Bool {
    if let firstWords {
      for word in firstWords {
        for start in positions[word] ?? [] where matches(words, at: start, step: 0) { return true }
      }
      return false
    }
    for start in words.indices where matches(words, at: start, step: 0) { return true }
    return false
  }

  private func matches(_ words: [String], at i: Int, step: Int) -> Bool {
    guard step < steps.count else { return true }
    switch steps[step] {
    case .gap(let most):
      for skip in 0...most where i + skip <= words.count {
        if matches(words, at: i + skip, step: step + 1) { return true }
      }
      return false
    case .oneOf(let alternatives):
      for alternative in alternatives where i + alternative.count <= words.count {
        var ok = true
        for (k, want) in alternative.enumerated() where !Self.word(words[i + k], fits: want) {
          ok = false
          break
        }
        if ok && matches(words, at: i + alternative.count, step: step + 1) { return true }
      }
      return false
    }
  }

  private static func word(_ word: String, fits want: String) -> Bool {
    want.hasSuffix("*") ? word.hasPrefix(want.dropLast()) : word == want
  }
}

extension InjectionSignal {
  // Word lists shared by several patterns.
  private static let earlier =
    "previous|prior|above|earlier|preceding|foregoing|former|initial|original|old|existing"
  private static let orders =
    "instruction*|direction*|directive*|rule*|prompt*|guideline*|command*|order*|guidance|constraint*"
    + "|programming|context|message*"
  private static let systemPrompt =
    "system_prompt*|system_message*|system_instruction*|initial_prompt|initial_instructions|hidden_prompt"
    + "|original_instructions|hidden_instructions|secret_instructions"
  private static let limits =
    "restriction*|limitation*|limits|filter*|censorship|guideline*|rules|boundaries|ethic*|moral*|polic*"
    + "|constraint*|safeguard*"
  private static let personas =
    "dan|stan|dude|jailbroken|unfiltered|uncensored|unrestricted|unchained|antigpt|betterdan"

  /// The signals, by category. Weights: ≥ 0.9 for phrases that are attacks on their own, about
  /// 0.3–0.5 for phrases benign text also uses, which count only together.
  static let all: [InjectionSignal] = [
    // Overriding the instructions the model was given.
    .words(
      .promptInjection, "ignore", 0.92,
      "ignore|disregard|forget|skip|bypass|override|neglect|overlook ~4 \(earlier) ~2 \(orders)"),
    .words(.promptInjection, "ignore", 0.85, "ignore|disregard|forget ~2 your ~2 \(orders)"),
    .words(.promptInjection, "ignore", 0.45, "ignore|disregard|forget ~1 all|any|every ~2 \(orders)"),
    .words(.promptInjection, "ignore", 0.9, "ignore|disregard|forget ~3 \(systemPrompt)"),
    .words(.promptInjection, "ignore", 0.6, "override|bypass ~3 \(systemPrompt)"),
    .words(
      .promptInjection, "new", 0.7,
      "your ~1 new|updated|real|actual|true instruction*|task|orders|directive*|purpose ~1 are|is"),
    .marker(.promptInjection, "new", 0.6, "newinstructions:"),
    .marker(.promptInjection, "new", 0.6, "updatedinstructions:"),
    .words(
      .promptInjection, "override", 0.95,
      "begin|start|initiate|enable|activate admin|administrator|developer|system|root|sudo override"),
    .words(
      .promptInjection, "override", 0.7,
      "admin|administrator|developer|system|root|sudo|emergency|security override"),
    .words(.promptInjection, "end", 0.6, "end of ~1 system_prompt|instructions|user_input|context"),
    .words(
      .promptInjection, "from-now", 0.4,
      "from_now_on|starting_now|henceforth ~3 you|youre|your|respond|answer|reply|act"),
    // Extracting the system prompt.
    .words(
      .promptInjection, "reveal", 0.85,
      "reveal|print|show|repeat|output|display|leak|dump|expose|disclose|recite|tell_me|give_me|write_out|spell_out ~3 your ~2 \(systemPrompt)|instructions|prompt|rules"
    ),
    .words(
      .promptInjection, "reveal", 0.45,
      "reveal|print|repeat|output|dump|leak|disclose ~3 the|all ~2 \(systemPrompt)"),
    .words(
      .promptInjection, "reveal", 0.5, "repeat|print|output|copy ~3 words|text|everything|content ~2 above"),
    // Tool results that talk to the model behind the user's back.
    .words(
      .promptInjection, "secret", 0.45,
      "do_not|dont|never ~2 tell|inform|mention|reveal|alert|notify ~2 the_user|the_human|anyone"),
    .words(
      .promptInjection, "exfiltrate", 0.45,
      "send|forward|email|post|upload|exfiltrate|transmit ~5 conversation|chat_history|api_key*|password*|credential*|secret*|system_prompt|private_key*|token*"
    ),
    .words(
      .promptInjection, "address", 0.45,
      "important|attention|urgent|note ~2 to|for ~2 ai|assistant|llm|model|chatbot|agent"),
    .words(
      .promptInjection, "decode", 0.5,
      "decode|decipher ~5 follow|execute|obey|run|perform|carry_out|do_what|instructions"),
    // Fake chat-template tokens and role headers (ChatML, Llama 2 and 3, Phi, Alpaca).
    .marker(.promptInjection, "template", 0.95, "<|im_start|>system"),
    .marker(.promptInjection, "template", 0.95, "<|start_header_id|>system"),
    .marker(.promptInjection, "template", 0.8, "<|system|>"),
    .marker(.promptInjection, "template", 0.8, "<<sys>>"),
    .marker(.promptInjection, "template", 0.6, "<|im_start|>"),
    .marker(.promptInjection, "template", 0.6, "<|start_header_id|>"),
    .marker(.promptInjection, "template", 0.5, "<|im_end|>"),
    .marker(.promptInjection, "template", 0.5, "<|eot_id|>"),
    .marker(.promptInjection, "template", 0.5, "<|endoftext|>"),
    .marker(.promptInjection, "template", 0.45, "[inst]"),
    .marker(.promptInjection, "template", 0.45, "[/inst]"),
    .marker(.promptInjection, "heading", 0.75, "###system:"),
    .marker(.promptInjection, "heading", 0.45, "###instruction:"),
    // Jailbreak personas and modes.
    .words(.jailbreak, "dan", 0.95, "do_anything_now"),
    .words(.jailbreak, "persona", 0.92, "you_are_now|youre_now|you_will_now_be ~2 \(personas)"),
    .words(
      .jailbreak, "persona", 0.85,
      "you_are|youre|act_as|pretend_to_be|roleplay_as|play_the_role_of|become ~2 \(personas)"),
    .words(.jailbreak, "persona", 0.8, "evil_confidant|antigpt|betterdan|anti_dan|basedgpt"),
    .words(
      .jailbreak, "persona", 0.7,
      "you_are|youre ~1 no_longer|not ~3 chatgpt|claude|an_ai|assistant|bound|restricted|limited"),
    .words(
      .jailbreak, "mode", 0.85,
      "you_are_now|youre_now|you_are_in|enter|entering|activate|switch_to|act_in ~2 developer|dev|debug|admin|sudo|god|dan|jailbreak|unrestricted mode"
    ),
    .words(
      .jailbreak, "mode", 0.8,
      "jailbreak|jailbroken|dan|god|unrestricted|unfiltered|uncensored|evil|opposite mode"),
    .words(.jailbreak, "mode", 0.8, "developer_mode enabled|activated"),
    .words(.jailbreak, "mode", 0.3, "developer|dev|debug|admin|sudo mode"),
    .words(
      .jailbreak, "limits", 0.88,
      "pretend|imagine|act|behave|suppose|assume|roleplay|respond|answer ~2 you|youre|your|that_you ~3 no|without|free_of|free_from|zero ~2 \(limits)"
    ),
    .words(.jailbreak, "limits", 0.6, "you_have|you_ve|youve ~1 no ~2 \(limits)"),
    .words(.jailbreak, "limits", 0.35, "without|free_of|free_from ~2 \(limits)"),
    .words(
      .jailbreak, "bypass", 0.85,
      "ignore|bypass|disable|remove|override|turn_off|circumvent|break|evade ~3 your|all|any|openai|anthropic ~3 safety|content|ethical|moral|openai|anthropic ~2 guideline*|filter*|restriction*|polic*|rule*|protocol*|training|programming|safeguard*|moderation"
    ),
    .words(.jailbreak, "character", 0.35, "stay|remain|keep ~1 in_character"),
    .words(.jailbreak, "character", 0.4, "never|dont|do_not break_character"),
    .words(.jailbreak, "refuse", 0.45, "you ~3 never|not|cannot|cant|wont ~1 refuse|decline"),
    .words(.jailbreak, "word", 0.35, "jailbreak*"),
  ]
}
