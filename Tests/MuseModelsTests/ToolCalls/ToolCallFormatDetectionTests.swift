import Testing

@testable import MuseModels

/// Each template's family, found from its source alone.
struct ToolCallFormatDetectionTests {
  static let expected: [String: ToolCallFamily] = [
    "Apriel-1.6-15b-Thinker-fixed": .jsonToolCallsBlock, "Bielik-11B-v3.0-Instruct": .hermes,
    "ByteDance-Seed-OSS": .seedXML, "Cohere2MoE": .commandR7B,
    "CohereForAI-c4ai-command-r-plus-tool_use": .commandRAction,
    "CohereForAI-c4ai-command-r7b-12-2024-tool_use": .commandR7B, "GLM-4.6": .glmXML,
    "GigaChat3-10B-A1.8B": .gigaChatFunctionCall, "GigaChat3.1-10B-A1.8B": .gigaChatFunctionCall,
    "HuggingFaceTB-SmolLM2-135M-Instruct": .generic, "HuggingFaceTB-SmolLM3-3B": .generic,
    "Kimi-K2-Instruct": .kimiK2,
    "Kimi-K2-Thinking": .kimiK2, "LFM2-8B-A1B": .generic, "LFM2.5-8B-A1B": .pythonicList, "MiMo-VL": .hermes,
    "MiniMax-M1": .jsonToolCallsBlock, "MiniMax-M2": .minimaxXML,
    "Mistral-Small-3.2-24B-Instruct-2506": .mistralNamedArguments,
    "NVIDIA-Nemotron-3-Nano-30B-A3B-BF16": .qwen3CoderXML, "NVIDIA-Nemotron-Nano-v2": .nemotronToolCall,
    "NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use": .hermes,
    "NousResearch-Hermes-3-Llama-3.1-8B-tool_use": .hermes,
    "Qwen-QwQ-32B": .hermes, "Qwen-Qwen2.5-7B-Instruct": .hermes, "Qwen-Qwen3-0.6B": .hermes,
    "Qwen3-Coder": .qwen3CoderXML,
    "Qwen3.5-4B": .qwen3CoderXML, "deepseek-ai-DeepSeek-R1-Distill-Llama-8B": .deepseekR1,
    "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B": .deepseekR1, "deepseek-ai-DeepSeek-V3.1": .deepseekV31,
    "deepseek-ai-DeepSeek-V3.2": .deepseekDSML, "deepseek-ai-DeepSeek-V4-Flash-0731": .deepseekDSML,
    "fireworks-ai-llama-3-firefunction-v2": .llama3JSON, "google-gemma-2-2b-it": .generic,
    "google-gemma-4-31B-it-interleaved": .gemma4, "google-gemma-4-31B-it": .gemma4,
    "ibm-granite-granite-3.3-2B-Instruct": .granite, "ibm-granite-granite-4.0": .hermes,
    "llama-cpp-deepseek-r1": .deepseekR1,
    "llama-cpp-rwkv-world": .generic, "meetkai-functionary-medium-v3.1": .functionaryV31,
    "meetkai-functionary-medium-v3.2": .functionaryV32, "meta-llama-Llama-3.1-8B-Instruct": .llama3JSON,
    "meta-llama-Llama-3.2-3B-Instruct": .llama3JSON, "meta-llama-Llama-3.3-70B-Instruct": .llama3JSON,
    "microsoft-Phi-3.5-mini-instruct": .generic,
    "mistralai-Ministral-3-14B-Reasoning-2512": .mistralNamedArguments,
    "mistralai-Mistral-Nemo-Instruct-2407": .mistralJSONList, "moonshotai-Kimi-K2": .kimiK2,
    "muse-glimmer": .museATEM,
    "openai-gpt-oss-120b": .harmony, "poolside-Laguna-XS-2.1": .glmXML, "poolside-Laguna-XS.2": .glmXML,
    "unsloth-Apriel-1.5": .jsonToolCallsBlock, "unsloth-mistral-Devstral-Small-2507": .mistralNamedArguments,
  ]

  @Test func everyTemplateHasAnExpectedFamily() {
    #expect(Set(Self.expected.keys) == Set(ToolCallFixtures.templateNames))
  }

  @Test(arguments: ToolCallFixtures.templateNames)
  func detectsTheFamilyFromTheSource(_ name: String) throws {
    let template = try ToolCallFixtures.template(name)
    #expect(ToolCallFormat(templateSource: template.source).family == Self.expected[name])
  }

  @Test func reasoningMarkersComeFromTheSource() {
    #expect(
      ToolCallFormat(templateSource: "{{ '<think>' }}").reasoning
        == ReasoningMarkers(open: "<think>", close: "</think>"))
    #expect(ToolCallFormat(templateSource: "[THINK]x[/THINK]").reasoning?.close == "[/THINK]")
    #expect(ToolCallFormat(templateSource: "<seed:think>").reasoning?.open == "<seed:think>")
    #expect(ToolCallFormat(templateSource: "plain").reasoning == nil)
  }

  @Test func aPromptEndingInThinkOpensReasoning() {
    let format = ToolCallFormat(
      family: .hermes, reasoning: ReasoningMarkers(open: "<think>", close: "</think>"))
    #expect(format.promptOpensReasoning("<|im_start|>assistant\n<think>\n"))
    #expect(!format.promptOpensReasoning("<|im_start|>assistant\n<think>\n\n</think>\n\n"))
  }

  @Test func triggersAreTheOpeners() {
    #expect(ToolCallFormat(family: .hermes).triggers == ["<tool_call>"])
    #expect(ToolCallFormat(family: .mistralNamedArguments).triggers == ["[TOOL_CALLS]"])
    #expect(ToolCallFormat(family: .llama3JSON).triggers.contains("<|python_tag|>"))
    #expect(ToolCallFormat(family: .kimiK2).triggers == ["<|tool_calls_section_begin|>"])
    #expect(ToolCallFormat(family: .harmony).triggers == ["to=functions."])
  }
}
