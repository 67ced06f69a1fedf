import Foundation
import MuseJinja
import MuseTestSupport
import Testing

@testable import MuseModels

/// The ChatTemplate API: OpenAI-shaped JSON in, the model's prompt out.
struct ChatTemplateTests {
  private func template(_ name: String) throws -> ChatTemplate {
    try ChatTemplate(
      source: String(contentsOfFile: TestPaths.fixture("templates/\(name).jinja"), encoding: .utf8),
      bosToken: "<|begin_of_text|>", eosToken: "<|eot_id|>")
  }

  @Test func smolLM2StyleChatMLFromJSON() throws {
    let chatML = try ChatTemplate(
      source:
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
    )
    let messages = try JinjaValue(
      json: #"[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]"#)
    guard case .array(let list) = messages else { throw JinjaError(.type, "not a list") }
    #expect(
      try chatML.render(messages: list)
        == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
  }

  @Test func readsTemplateAndSpecialTokensFromSmolLM2() throws {
    let chat = try ChatTemplate(gguf: try GGUFFile(path: try TestPaths.smolLM2()))
    #expect(chat.bosToken == "<|im_start|>")
    #expect(chat.eosToken == "<|im_end|>")
    let fixture = try String(
      contentsOfFile: TestPaths.fixture("templates/HuggingFaceTB-SmolLM2-135M-Instruct.jinja"),
      encoding: .utf8)
    #expect(chat.source == fixture)
    #expect(
      try chat.render(messages: [ChatMessage(role: "user", content: "Hi")])
        == "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
        + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
  }

  @Test func llama3UsesBosAndFixedDate() throws {
    var c = DateComponents()
    (c.year, c.month, c.day) = (2024, 7, 26)
    let now = Calendar(identifier: .gregorian).date(from: c)!
    let text = try template("meta-llama-Llama-3.2-3B-Instruct").render(
      messages: [ChatMessage(role: "user", content: "Hello")], now: now)
    #expect(text.hasPrefix("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"))
    #expect(text.contains("Today Date: 26 Jul 2024"))
    #expect(text.hasSuffix("Hello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"))
  }

  @Test func raiseExceptionCarriesTheTemplatesMessage() throws {
    let gemma = try template("google-gemma-2-2b-it")
    #expect {
      try gemma.render(messages: [
        ChatMessage(role: "system", content: "x"), ChatMessage(role: "user", content: "y"),
      ])
    } throws: { error in
      (error as? JinjaError)?.kind == .raised
        && (error as? JinjaError)?.message == "System role not supported"
    }
  }

  @Test func reasoningIsAliasedLikeTransformers() {
    let aliased = ChatTemplate.aliasReasoning(["role": "assistant", "reasoning": "hmm"])
    guard case .dict(let d) = aliased else { return #expect(Bool(false)) }
    #expect(d.stringKeys == ["thinking", "role", "reasoning", "reasoning_content"])
    #expect(d["reasoning_content"] == "hmm")
  }
}
