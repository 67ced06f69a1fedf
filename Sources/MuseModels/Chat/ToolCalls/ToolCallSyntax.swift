/// How one family writes its calls, as data the readers follow. Each family's values are in
/// `ToolCallFamily.syntax` (ToolCallFormat.swift).
enum CallSyntax: Sendable {
  /// JSON objects `{"name": …, "arguments": {…}}` (or lists of them) after an opener.
  case jsonBlock(JSONBlockSyntax)
  /// A name, then the arguments as a JSON object, between markers.
  case named(NamedCallSyntax)
  /// A name, then XML-like parameters whose values become JSON.
  case xmlParameters(XMLParameterSyntax)
  /// Calls between markers in a notation of their own, converted when whole.
  case delimited(DelimitedCallSyntax)
  /// Calls are written only in segment headers (harmony's `to=functions.NAME`).
  case headersOnly
}

struct DelimitedCallSyntax: Sendable {
  enum Notation: Sendable { case gemma, pythonicList }
  var open: String
  var close: String
  var notation: Notation
}

struct JSONBlockSyntax: Sendable {
  var openers: [String]
  /// The opener is the JSON's own beginning (Llama's `{"name"`, the generic `{`).
  var openerIsPartOfJSON = false
  /// Only a reply that begins with the opener is a call (after whitespace).
  var onlyAtStart = false
  /// The JSON may be fenced: "```json" before, "```" after (Command R's `Action:`).
  var fenced = false
  /// The block's end; nil where the JSON's own end ends it.
  var closer: String?
  var nameKeys: [String] = ["name"]
  var argumentKeys: [String] = ["arguments", "parameters"]
  var idKeys: [String] = ["id", "tool_call_id"]
  /// The generic format's `{"tool_calls": [...]}` and `{"response": "..."}`.
  var callListKey: String?
  var responseKey: String?
}

struct NamedCallSyntax: Sendable {
  /// Wraps all calls (`<|tool_calls_section_begin|>` … `_end|>`); nil when each call stands alone.
  var sectionOpen: String?
  var sectionClose: String?
  /// Starts one call; the name follows.
  var callOpen: String
  /// What ends the name, the first found (the ones after `consumedNameEnds` stay unread).
  var nameEnds: [String]
  /// DeepSeek R1 writes a type first: `function<｜tool▁sep｜>NAME\n`.
  var typePrefix: String?
  /// Mistral's `[CALL_ID]id` between the name and `[ARGS]`.
  var idMarker: String?
  /// What comes between name (or id) and the arguments, when not already a name end.
  var argumentsMarker: String?
  /// Kimi's `functions.NAME:IDX`: the whole is the id, the middle the name.
  var namespacedIds = false
  /// "```json" … "```" around the arguments (DeepSeek R1).
  var fenced = false
  /// Ends one call; nil where the arguments' end ends it.
  var callClose: String?
  /// Functionary v3.2's `>>>all\n…`: this "name" means plain content follows.
  var contentRecipient: String?
}

struct XMLParameterSyntax: Sendable {
  var blockOpen: String
  var blockClose: String
  /// Starts one call inside the block; nil where the name follows `blockOpen` (GLM).
  var invokeOpen: String?
  var nameEnd: String
  /// Ends one call; nil where `blockClose` ends it (one call per block).
  var invokeClose: String?
  var parameterOpen: String
  var parameterNameEnd: String
  /// Attributes after the name up to this (`<parameter name="x" string="true">`).
  var attributesEnd: String?
  /// Opens the value after the name (GLM's `<arg_value>`), after whitespace.
  var valueOpen: String?
  var parameterClose: String
  /// Values are written on their own lines (`<parameter=x>\nvalue\n</parameter>`): one newline
  /// at each end is layout, not value.
  var trimNewlines = false
}

/// Replies made of headed segments (`<|start|>assistant to=… <|channel|>…<|message|>body<|end|>`).
struct SegmentSyntax: Sendable {
  var headerEnd = "<|message|>"
  var ends: [String]
  /// The longest header believed; a longer one is taken as content.
  var maximumHeaderBytes = 512
  /// A header naming a function (`to=functions.NAME`) makes its body that call's arguments.
  var functionRecipientPrefix: String?
  /// Recipients and channels whose bodies are reasoning.
  var reasoningChannels: [String] = []
  var reasoningRecipients: [String] = []
}
