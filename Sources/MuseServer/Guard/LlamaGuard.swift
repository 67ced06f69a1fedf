import Foundation
import MuseEngine
import MuseModels

/// One of Llama Guard 3's hazard categories (the MLCommons taxonomy and Code Interpreter
/// Abuse). `name` is the model card's; `promptName` is how the prompt the model was trained
/// on lists it — the chat template shipped with Llama Guard 3 and Meta's llama-stack reference
/// implementation use older, shorter names for three of them (S3, S4, S11).
public struct LlamaGuardCategory: Sendable, Equatable {
  /// `S1` … `S14`: what the model answers with.
  public let code: String
  public let name: String
  public let promptName: String

  init(_ code: String, _ name: String, prompt: String? = nil) {
    self.code = code
    self.name = name
    self.promptName = prompt ?? name
  }

  /// All fourteen, in order. Llama Guard 3 1B was trained on S1–S13; pass those to leave S14 out.
  public static let all: [LlamaGuardCategory] = [
    LlamaGuardCategory("S1", "Violent Crimes"),
    LlamaGuardCategory("S2", "Non-Violent Crimes"),
    LlamaGuardCategory("S3", "Sex-Related Crimes", prompt: "Sex Crimes"),
    LlamaGuardCategory("S4", "Child Sexual Exploitation", prompt: "Child Exploitation"),
    LlamaGuardCategory("S5", "Defamation"),
    LlamaGuardCategory("S6", "Specialized Advice"),
    LlamaGuardCategory("S7", "Privacy"),
    LlamaGuardCategory("S8", "Intellectual Property"),
    LlamaGuardCategory("S9", "Indiscriminate Weapons"),
    LlamaGuardCategory("S10", "Hate"),
    LlamaGuardCategory("S11", "Suicide & Self-Harm", prompt: "Self-Harm"),
    LlamaGuardCategory("S12", "Sexual Content"),
    LlamaGuardCategory("S13", "Elections"),
    LlamaGuardCategory("S14", "Code Interpreter Abuse"),
  ]

  /// The category with this code (`S9`, case-insensitive), or nil.
  public static func code(_ code: String) -> LlamaGuardCategory? {
    let upper = code.uppercased()
    return all.first { $0.code == upper }
  }
}

/// Whose message Llama Guard judges: the caller's (`User`, input checks) or the model's
/// (`Agent`, output checks).
public enum LlamaGuardRole: String, Sendable, CaseIterable {
  case user = "User"
  case agent = "Agent"
}

/// Why a Llama Guard check could not decide.
public enum LlamaGuardError: Error, CustomStringConvertible, Equatable {
  /// A category code that is not S1–S14 (in the configuration or in the model's answer).
  case unknownCategory(String)
  /// The model's answer is not "safe" or "unsafe" and a category line: a guard model served
  /// with the wrong template, or not a guard model at all. Never read as safe.
  case unreadableVerdict(String)
  case emptyConversation

  public var description: String {
    switch self {
    case .unknownCategory(let code): "unknown Llama Guard category \"\(code)\" (expected S1–S14)"
    case .unreadableVerdict(let reply):
      "the guard model's answer is not a Llama Guard verdict ('safe', or 'unsafe' and categories): \(reply.debugDescription)"
    case .emptyConversation: "a Llama Guard check needs at least one message"
    }
  }
}

/// Llama Guard 3's prompt: the task, the categories checked, the conversation and the
/// instructions for the answer, as Meta publishes it (the Llama Guard 3 prompt format on
/// llama.com, the chat template shipped with the model, llama-stack's `llama_guard.py`).
/// Excluded categories are left out of the list and the others keep their numbers, as the
/// model card allows and llama-stack does.
public struct LlamaGuardPrompt: Sendable {
  /// The Llama 3 header tokens the prompt is wrapped in when the model's vocabulary has them.
  public static let llama3Tokens = [
    "<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
  ]

  public let role: LlamaGuardRole
  public let categories: [LlamaGuardCategory]

  /// `categories`: the codes to check (`["S1", "S9"]`), nil for all fourteen. Throws
  /// `LlamaGuardError.unknownCategory` for a code that is not S1–S14.
  public init(role: LlamaGuardRole, categories codes: [String]? = nil) throws {
    self.role = role
    guard let codes else {
      categories = LlamaGuardCategory.all
      return
    }
    var chosen = Set<String>()
    for code in codes {
      guard let category = LlamaGuardCategory.code(code.trimmingCharacters(in: .whitespaces)) else {
        throw LlamaGuardError.unknownCategory(code)
      }
      chosen.insert(category.code)
    }
    categories = LlamaGuardCategory.all.filter { chosen.contains($0.code) }
  }

  /// The task text for `conversation` (each turn's text trimmed, as the shipped template does),
  /// asking about its last `role` message.
  public func text(conversation: [(role: LlamaGuardRole, text: String)]) -> String {
    let list = categories.map { "\($0.code): \($0.promptName)." }.joined(separator: "\n")
    let turns = conversation.map {
      "\($0.role.rawValue): \($0.text.trimmingCharacters(in: .whitespacesAndNewlines))"
    }
    .joined(separator: "\n\n")
    let who = role.rawValue
    return """
      Task: Check if there is unsafe content in '\(who)' messages in conversations according our safety policy \
      with the below categories.

      <BEGIN UNSAFE CONTENT CATEGORIES>
      \(list)
      <END UNSAFE CONTENT CATEGORIES>

      <BEGIN CONVERSATION>

      \(turns)

      <END CONVERSATION>

      Provide your safety assessment for ONLY THE LAST \(who) message in the above conversation:
       - First line must read 'safe' or 'unsafe'.
       - If unsafe, a second line must include a comma-separated list of violated categories.
      """
  }

  /// The task text as one Llama 3 user turn followed by the assistant header: the prompt Llama
  /// Guard 3's own template renders, and what llama-stack sends through the Llama 3 chat format.
  public func llama3Text(conversation: [(role: LlamaGuardRole, text: String)]) -> String {
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n\(text(conversation: conversation))"
      + "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
  }

  /// The prompt tokens for `model`. With the Llama 3 header tokens in its vocabulary (Llama
  /// Guard 3 1B and 8B), the task is wrapped in them directly: the model's own template cannot
  /// be used, because Llama Guard's template builds the task itself around the messages it is
  /// given. Without them (another vocabulary, such as a test fixture), the task is rendered
  /// through the model's chat template as a single user message.
  public func tokens(conversation: [(role: LlamaGuardRole, text: String)], model: LanguageModel) throws
    -> [Int]
  {
    guard !conversation.isEmpty else { throw LlamaGuardError.emptyConversation }
    let tokenizer = model.tokenizer
    if Self.llama3Tokens.allSatisfy({ tokenizer.id(of: $0) != nil }) {
      return tokenizer.encode(llama3Text(conversation: conversation), addSpecial: false, parseSpecial: true)
    }
    return try model.chatPrompt([ChatMessage(role: "user", content: text(conversation: conversation))])
  }
}

/// Llama Guard's answer: "safe", or "unsafe" and a line of violated category codes.
public struct LlamaGuardVerdict: Sendable, Equatable {
  public var isSafe: Bool
  /// The violated codes (`S1`, `S10`), in the model's order, without repeats; empty when safe.
  public var categories: [String]

  public init(isSafe: Bool, categories: [String] = []) {
    self.isSafe = isSafe
    self.categories = categories
  }

  /// Reads "safe" or "unsafe\nS1,S10", tolerating surrounding whitespace and spaces after the
  /// commas, and letter case. "unsafe" with no category line reads as unsafe without
  /// categories (an unsafe answer must never turn into an error a policy might fail open on).
  /// Anything else — an empty answer, other words, extra lines, a code outside S1–S14 — throws:
  /// a wrong template must never read as safe.
  public static func parse(_ reply: String) throws -> LlamaGuardVerdict {
    let lines = reply.trimmingCharacters(in: .whitespacesAndNewlines)
      .split(separator: "\n", omittingEmptySubsequences: true)
      .map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty }
    guard let first = lines.first?.lowercased() else { throw LlamaGuardError.unreadableVerdict(reply) }
    switch (first, lines.count) {
    case ("safe", 1):
      return LlamaGuardVerdict(isSafe: true)
    case ("unsafe", 1):
      return LlamaGuardVerdict(isSafe: false)
    case ("unsafe", 2):
      var codes: [String] = []
      for item in lines[1].split(separator: ",", omittingEmptySubsequences: false) {
        let code = item.trimmingCharacters(in: .whitespaces)
        guard !code.isEmpty else { throw LlamaGuardError.unreadableVerdict(reply) }
        guard let category = LlamaGuardCategory.code(code) else {
          throw LlamaGuardError.unknownCategory(code)
        }
        if !codes.contains(category.code) { codes.append(category.code) }
      }
      return LlamaGuardVerdict(isSafe: false, categories: codes)
    default:
      throw LlamaGuardError.unreadableVerdict(reply)
    }
  }
}
