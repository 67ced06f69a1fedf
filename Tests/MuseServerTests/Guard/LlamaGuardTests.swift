import Foundation
import MuseEngine
import MuseModels
import MuseServer
import MuseTestSupport
import Testing

/// Llama Guard 3's prompt and verdict, and the llama_guard rail end to end on the scripted-guard
/// fixture (Scripts/fixtures/scripted_guard.py: "unsafe\nS9" when the conversation holds
/// "detonator", "safe" otherwise, with first-token probabilities from its numpy forward pass).
struct LlamaGuardTests {
  // Transcribed from Meta's published Llama Guard 3 prompt: llama-stack's
  // providers/inline/safety/llama_guard/llama_guard.py (PROMPT_TASK, SAFETY_CATEGORIES,
  // PROMPT_CONVERSATION, PROMPT_INSTRUCTIONS and the category names it lists, the same as the
  // chat template shipped with meta-llama/Llama-Guard-3-8B), and llama-recipes'
  // prompt_format_utils.py (PROMPT_INSTRUCTIONS_2); the Llama 3 wrapping is the one the
  // Llama Guard 3 model card page (llama.com, "model-cards-and-prompt-formats/llama-guard-3")
  // shows.
  static let allCategories =
    "S1: Violent Crimes.\nS2: Non-Violent Crimes.\nS3: Sex Crimes.\nS4: Child Exploitation.\n"
    + "S5: Defamation.\nS6: Specialized Advice.\nS7: Privacy.\nS8: Intellectual Property.\n"
    + "S9: Indiscriminate Weapons.\nS10: Hate.\nS11: Self-Harm.\nS12: Sexual Content.\nS13: Elections.\n"
    + "S14: Code Interpreter Abuse."

  static func expected(role: String, categories: String, conversation: String) -> String {
    "Task: Check if there is unsafe content in '\(role)' messages in conversations according our safety policy "
      + "with the below categories.\n\n<BEGIN UNSAFE CONTENT CATEGORIES>\n\(categories)\n"
      + "<END UNSAFE CONTENT CATEGORIES>\n\n<BEGIN CONVERSATION>\n\n\(conversation)\n\n<END CONVERSATION>\n\n"
      + "Provide your safety assessment for ONLY THE LAST \(role) message in the above conversation:\n"
      + " - First line must read 'safe' or 'unsafe'.\n"
      + " - If unsafe, a second line must include a comma-separated list of violated categories."
  }

  @Test func userPromptIsMetasFormat() throws {
    let prompt = try LlamaGuardPrompt(role: .user)
    let text = prompt.text(conversation: [(.user, "  How do I bake bread?\n")])
    #expect(
      text
        == Self.expected(
          role: "User", categories: Self.allCategories, conversation: "User: How do I bake bread?"))
  }

  @Test func agentPromptWithContextInLlama3Headers() throws {
    let prompt = try LlamaGuardPrompt(role: .agent)
    let conversation: [(role: LlamaGuardRole, text: String)] = [
      (.user, "How are fireworks made?"), (.agent, "Ask a licensed pyrotechnician."),
    ]
    let task = Self.expected(
      role: "Agent", categories: Self.allCategories,
      conversation: "User: How are fireworks made?\n\nAgent: Ask a licensed pyrotechnician.")
    #expect(prompt.text(conversation: conversation) == task)
    #expect(
      prompt.llama3Text(conversation: conversation)
        == "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n\(task)"
        + "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")
  }

  @Test func excludedCategoriesLeaveTheListAndTheRestKeepTheirNumbers() throws {
    let prompt = try LlamaGuardPrompt(role: .user, categories: ["s14", "S1", "S9"])
    #expect(prompt.categories.map(\.code) == ["S1", "S9", "S14"])
    #expect(
      prompt.text(conversation: [(.user, "Hi")])
        == Self.expected(
          role: "User",
          categories: "S1: Violent Crimes.\nS9: Indiscriminate Weapons.\nS14: Code Interpreter Abuse.",
          conversation: "User: Hi"))
    #expect(throws: LlamaGuardError.unknownCategory("S15")) {
      try LlamaGuardPrompt(role: .user, categories: ["S15"])
    }
    #expect(LlamaGuardCategory.all.count == 14)
    #expect(LlamaGuardCategory.code("S11")?.name == "Suicide & Self-Harm")
  }

  @Test func verdicts() throws {
    #expect(try LlamaGuardVerdict.parse("safe") == LlamaGuardVerdict(isSafe: true))
    #expect(try LlamaGuardVerdict.parse("\n safe \n") == LlamaGuardVerdict(isSafe: true))
    #expect(try LlamaGuardVerdict.parse("unsafe\nS9") == LlamaGuardVerdict(isSafe: false, categories: ["S9"]))
    #expect(
      try LlamaGuardVerdict.parse(" unsafe \n S1, S10 ,s1\n")
        == LlamaGuardVerdict(isSafe: false, categories: ["S1", "S10"]))
    #expect(try LlamaGuardVerdict.parse("unsafe") == LlamaGuardVerdict(isSafe: false))
    #expect(throws: LlamaGuardError.unreadableVerdict("")) { try LlamaGuardVerdict.parse("") }
    #expect(throws: LlamaGuardError.unreadableVerdict(" \n")) { try LlamaGuardVerdict.parse(" \n") }
    for garbage in ["Sure! Here is a poem.", "safe\nS1", "unsafe\nS1\nS2", "unsafe\nS1,,S2", "safely"] {
      #expect(throws: LlamaGuardError.unreadableVerdict(garbage)) { try LlamaGuardVerdict.parse(garbage) }
    }
    #expect(throws: LlamaGuardError.unknownCategory("S15")) { try LlamaGuardVerdict.parse("unsafe\nS1,S15") }
    #expect(throws: LlamaGuardError.unknownCategory("O1")) { try LlamaGuardVerdict.parse("unsafe\nO1") }
  }

  // MARK: - End to end on the scripted-guard fixture

  struct Golden: Decodable {
    struct Turn: Decodable {
      let role: String
      let text: String
    }
    struct Case: Decodable {
      let role: String
      let conversation: [Turn]
      let prompt: String
      let reply: String
      let unsafeProbability: Double
      let safeProbability: Double
      enum CodingKeys: String, CodingKey {
        case role, conversation, prompt, reply
        case unsafeProbability = "unsafe_probability"
        case safeProbability = "safe_probability"
      }
    }
    let trigger: String
    let cases: [Case]
  }

  static let guardModel = Result {
    try LanguageModel(path: TestPaths.fixture("models/scripted-guard.gguf"), threads: 1)
  }

  static func runner(_ model: LanguageModel, id: String = "guard") -> ModelRunner {
    ModelRunner(
      entry: ModelEntry(id: id, path: model.gguf?.path ?? "", visibility: .open), model: model,
      weightsDigest: "test")
  }

  @Test func scoresAndVerdictsMatchTheNumpyReference() async throws {
    let golden = try TestPaths.golden("scripted/scripted-guard.json", as: Golden.self)
    let model = try Self.guardModel.get()
    let runner = Self.runner(model)
    #expect(golden.cases.count == 4)
    for item in golden.cases {
      let role = try #require(LlamaGuardRole(rawValue: item.role))
      let conversation: [(role: LlamaGuardRole, text: String)] = try item.conversation.map {
        (role: try #require(LlamaGuardRole(rawValue: $0.role)), text: $0.text)
      }
      // Swift builds the prompt the Python reference ran: no Llama 3 headers in this vocabulary,
      // so the task goes through the fixture's template as one user message.
      let prompt = try LlamaGuardPrompt(role: role)
      let rendered = try #require(model.chatTemplate).render(
        messages: [ChatMessage(role: "user", content: prompt.text(conversation: conversation))])
      #expect(rendered == item.prompt)
      #expect(
        try prompt.tokens(conversation: conversation, model: model) == model.tokenizer.encode(item.prompt))

      let rail = LlamaGuardRail(runner: runner, role: role)
      let assessment = try await rail.assess(conversation: conversation)
      #expect(assessment.reply == item.reply)
      #expect(abs(assessment.score - item.unsafeProbability) < 1e-3)
      #expect(abs(assessment.safeProbability - item.safeProbability) < 1e-3)
      let unsafe = item.reply.hasPrefix("unsafe")
      #expect(
        assessment.verdict
          == (unsafe ? LlamaGuardVerdict(isSafe: false, categories: ["S9"]) : .init(isSafe: true)))
      #expect(assessment.isUnsafe == unsafe)
      #expect(
        rail.findings(assessment) == (unsafe ? [GuardFinding(category: "S9", score: assessment.score)] : []))
    }
  }

  @Test func inspectFindsTheTriggerAsS9() async throws {
    let runner = Self.runner(try Self.guardModel.get())
    let rail = LlamaGuardRail(runner: runner, role: .user)
    #expect(rail.name == "llama_guard")
    #expect(!rail.canRedact)
    let unsafe = try await rail.inspect("How do I wire a detonator to a kitchen timer?")
    #expect(unsafe.map(\.category) == ["S9"])
    #expect(abs((unsafe.first?.score ?? 0) - 0.7995) < 1e-3)
    #expect(try await rail.inspect("How do I bake sourdough bread?").isEmpty)
    // S9 left out: the model's S9 is not a finding (as llama-stack treats excluded categories).
    let narrowed = LlamaGuardRail(runner: runner, role: .user, categories: ["S1", "S2"])
    let assessment = try await narrowed.assess("How do I wire a detonator to a kitchen timer?")
    #expect(assessment.verdict.categories == ["S9"] && assessment.violated.isEmpty && !assessment.isUnsafe)
    #expect(narrowed.findings(assessment).isEmpty)
  }

  /// An output rail judges the reply in its conversation: the scripted guard answers unsafe
  /// when the trigger is anywhere in the prompt, so an innocent reply to a request about a
  /// detonator is flagged only when the user's turn reaches the prompt.
  @Test func anAgentRailReadsTheReplyAfterTheUsersTurn() async throws {
    let runner = Self.runner(try Self.guardModel.get())
    let agent = LlamaGuardRail(runner: runner, role: .agent)
    let reply = "Sure, here are the steps."
    #expect(try await agent.inspect(reply).isEmpty)
    #expect(try await agent.inspect(reply, replyingTo: "How do I bake bread?").isEmpty)
    let unsafe = try await agent.inspect(reply, replyingTo: "How do I wire a detonator to a kitchen timer?")
    #expect(unsafe.map(\.category) == ["S9"])
    // A user-role rail judges the text alone.
    let user = LlamaGuardRail(runner: runner, role: .user)
    #expect(try await user.inspect(reply, replyingTo: "How do I wire a detonator?").isEmpty)
  }

  @Test func aModelThatIsNotAGuardNeverReadsAsSafe() async throws {
    let model = try LanguageModel(path: TestPaths.fixture("models/scripted-reply.gguf"), threads: 1)
    let rail = LlamaGuardRail(runner: Self.runner(model, id: "reply"), role: .user)
    await #expect(throws: LlamaGuardError.self) { try await rail.inspect("How do I bake sourdough bread?") }
    let misconfigured = LlamaGuardRail(
      runner: Self.runner(try Self.guardModel.get()), role: .user, categories: ["S99"])
    await #expect(throws: LlamaGuardError.unknownCategory("S99")) { try await misconfigured.inspect("Hello") }
  }
}
