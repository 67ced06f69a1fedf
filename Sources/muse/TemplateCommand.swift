import ArgumentParser
import Foundation
import MuseJinja
import MuseModels

struct TemplateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "template", abstract: "Work with chat templates.", subcommands: [RenderTemplateCommand.self])
}

/// Renders a conversation through a model's chat template, printing exactly the prompt text
/// (no newline added), so it can be diffed against transformers' `apply_chat_template`.
struct RenderTemplateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "render", abstract: "Print the prompt a chat template makes of a conversation.")

  @Option(name: .shortAndLong, help: "GGUF model whose tokenizer.chat_template to use.") var model: String?
  @Option(name: .long, help: "Jinja template file to use instead of a model's.") var template: String?
  @Option(
    name: .long,
    help: "JSON file: a list of OpenAI-style messages, or an object with \"messages\" (and \"tools\").")
  var messages: String
  @Option(name: .long, help: "JSON file with a list of OpenAI-style tool definitions.") var tools: String?
  @Flag(name: .long, help: "End with the header that starts the assistant's reply.") var addGenerationPrompt =
    false
  @Option(
    name: .customLong("var"),
    help:
      "Extra template variable key=value (value parsed as JSON when it parses, else a string); repeatable.")
  var variables: [String] = []
  @Option(name: .long, help: "BOS token text (default: the model's, or empty).") var bos: String?
  @Option(name: .long, help: "EOS token text (default: the model's, or empty).") var eos: String?
  @Option(
    name: .long, help: "The date strftime_now reports, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (default: now).")
  var now: String?

  func validate() throws {
    guard (model == nil) != (template == nil) else {
      throw ValidationError("give exactly one of --model or --template")
    }
    if let now, Self.parseDate(now) == nil {
      throw ValidationError("--now \(now): expected YYYY-MM-DD[THH:MM:SS]")
    }
    for v in variables where !v.contains("=") {
      throw ValidationError("--var \(v): expected key=value")
    }
  }

  func run() throws {
    try reportingErrors {
      let chat: ChatTemplate
      if let model {
        chat = try ChatTemplate(gguf: try GGUFFile(path: model))
      } else {
        chat = try ChatTemplate(source: String(decoding: try read(template!), as: UTF8.self))
      }
      var conversation = try JinjaValue(json: try read(messages))
      var toolList: [JinjaValue]?
      if case .dict(let object) = conversation {
        conversation = object["messages"] ?? .array([])
        if case .array(let t)? = object["tools"] { toolList = t }
      }
      guard case .array(let messageList) = conversation else {
        throw ValidationError("\(messages): expected a JSON list of messages")
      }
      if let tools {
        guard case .array(let t) = try JinjaValue(json: try read(tools)) else {
          throw ValidationError("\(tools): expected a JSON list of tools")
        }
        toolList = t
      }
      let extra = try templateVariables(variables)
      let prompt = try chat.render(
        messages: messageList, tools: toolList, addGenerationPrompt: addGenerationPrompt, bosToken: bos,
        eosToken: eos, extra: extra, now: now.flatMap(Self.parseDate))
      FileHandle.standardOutput.write(Data(prompt.utf8))
    }
  }

  /// A fixed local date, so renders of templates that print today's date can be reproduced.
  static func parseDate(_ text: String) -> Date? {
    let parts = text.split(whereSeparator: { "-T:".contains($0) }).map { Int($0) }
    guard parts.count == 3 || parts.count == 6, !parts.contains(nil) else { return nil }
    var c = DateComponents()
    (c.year, c.month, c.day) = (parts[0], parts[1], parts[2])
    if parts.count == 6 { (c.hour, c.minute, c.second) = (parts[3], parts[4], parts[5]) }
    return Calendar(identifier: .gregorian).date(from: c)
  }

  private func read(_ path: String) throws -> Data {
    // FileHandle rather than FileManager.contents, so pipes (`<(…)`, /dev/stdin) work too.
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw ValidationError("\(path): cannot read the file")
    }
    defer { try? handle.close() }
    return handle.readDataToEndOfFile()
  }
}
