import Foundation
import Hummingbird
import MuseEngine
import MuseModels
import MuseStore

/// `POST /tokenize`, `POST /detokenize` and `GET /tokenizer_info`: a served model's tokenizer,
/// for clients that count or build token-id prompts (lm-evaluation-harness's remote tokenizer).
/// vLLM's shapes, and llama-server's `content` / `with_pieces` for `/tokenize`. A key with
/// inference scope, for a model it may use; nothing is generated or billed. `model` may be left
/// out (as lm-evaluation-harness does) when the key may use one language model only; with
/// several the request is refused rather than answered with the wrong tokenizer.
struct TokenizeController: Sendable {
  let service: MuseService

  func register(on router: RouterGroup<MuseRequestContext>) {
    router.post("/tokenize") { request, context in try await self.tokenize(request, context: context) }
    router.post("/detokenize") { request, context in try await self.detokenize(request, context: context) }
    router.get("/tokenizer_info") { request, context in try self.tokenizerInfo(request, context: context) }
  }

  /// The model named, or the only language model `key` may use.
  private func runner(_ id: String?, for key: APIKey) throws -> ModelRunner {
    if let id { return try service.model(id, for: key) }
    let usable = service.models.keys.filter { key.allows(model: $0) }.sorted()
    guard usable.count == 1 else {
      throw OpenAIError.invalid(
        usable.isEmpty
          ? "Missing required parameter: 'model' (this key may use no language model)."
          : "Missing required parameter: 'model' (this key may use \(usable.count) models: "
            + usable.joined(separator: ", ") + ").",
        param: "model", code: "missing_required_parameter")
    }
    return try service.model(usable[0], for: key)
  }

  // swiftlint:disable identifier_name
  struct TokenizeRequest: Decodable {
    let model: String?
    let prompt: String?
    /// llama-server's name for `prompt`.
    let content: String?
    let add_special_tokens: Bool?
    let with_pieces: Bool?

    enum CodingKeys: String, CodingKey { case model, prompt, content, add_special_tokens, with_pieces }
    /// `prompt` and `content` are strings when present (null is refused, as the contract says).
    init(from decoder: Decoder) throws {
      let c = try decoder.container(keyedBy: CodingKeys.self)
      model = try c.decodeIfPresent(String.self, forKey: .model)
      prompt = c.contains(.prompt) ? try c.decode(String.self, forKey: .prompt) : nil
      content = c.contains(.content) ? try c.decode(String.self, forKey: .content) : nil
      add_special_tokens = try c.decodeIfPresent(Bool.self, forKey: .add_special_tokens)
      with_pieces = try c.decodeIfPresent(Bool.self, forKey: .with_pieces)
    }
  }
  struct Piece: Encodable {
    let id: Int
    let piece: String
  }
  enum Tokens: Encodable {
    case ids([Int])
    case pieces([Piece])
    func encode(to encoder: Encoder) throws {
      var c = encoder.singleValueContainer()
      switch self {
      case .ids(let ids): try c.encode(ids)
      case .pieces(let pieces): try c.encode(pieces)
      }
    }
  }
  struct TokenizeResponse: Encodable {
    let tokens: Tokens
    let count: Int
    let max_model_len: Int
  }
  struct DetokenizeRequest: Decodable {
    let model: String?
    let tokens: [JSONNumber]
  }
  /// What lm-evaluation-harness's remote tokenizer reads (vLLM's `tokenizer_config.json`-shaped
  /// answer): the special tokens as text, whether a BOS is added, the chat template.
  struct TokenizerInfo: Encodable {
    let model: String
    let tokenizer_class: String
    let bos_token: String?
    let eos_token: String?
    let pad_token: String?
    let unk_token: String?
    let add_bos_token: Bool
    let add_eos_token: Bool
    let model_max_length: Int
    let vocab_size: Int
    let chat_template: String?
  }
  // swiftlint:enable identifier_name

  func tokenize(_ request: Request, context: MuseRequestContext) async throws -> Response {
    let key = try context.requireKey(.inference)
    let body = try await service.decode(TokenizeRequest.self, from: request)
    let runner = try runner(body.model, for: key)
    if body.prompt != nil && body.content != nil {
      throw OpenAIError.invalid(
        "Send the text as 'prompt' or as 'content', not both.", param: "content", code: "invalid_value")
    }
    guard let text = body.prompt ?? body.content else {
      throw OpenAIError.invalid(
        "Missing required parameter: 'prompt'.", param: "prompt", code: "missing_required_parameter")
    }
    let tokenizer = runner.model.tokenizer
    let ids = tokenizer.encode(text, addSpecial: body.add_special_tokens ?? true, parseSpecial: false)
    let tokens: Tokens =
      body.with_pieces == true
      ? .pieces(ids.map { Piece(id: $0, piece: String(decoding: tokenizer.tokenBytes($0), as: UTF8.self)) })
      : .ids(ids)
    return try jsonResponse(
      TokenizeResponse(tokens: tokens, count: ids.count, max_model_len: runner.contextLength))
  }

  func detokenize(_ request: Request, context: MuseRequestContext) async throws -> Response {
    let key = try context.requireKey(.inference)
    let body = try await service.decode(DetokenizeRequest.self, from: request)
    let runner = try runner(body.model, for: key)
    let vocabulary = runner.model.config.vocabularySize
    let ids = try body.tokens.enumerated().map { i, n in
      guard let v = n.integer, v >= 0, v < vocabulary else {
        throw OpenAIError.invalid(
          "Invalid value for 'tokens[\(i)]': expected a token id from 0 to \(vocabulary - 1).",
          param: "tokens[\(i)]", code: "invalid_value")
      }
      return Int(v)
    }
    return try jsonResponse(["prompt": runner.model.tokenizer.decode(ids)])
  }

  func tokenizerInfo(_ request: Request, context: MuseRequestContext) throws -> Response {
    let key = try context.requireKey(.inference)
    let runner = try runner(request.uri.queryParameters.get("model"), for: key)
    let tokenizer = runner.model.tokenizer
    let vocabulary = tokenizer.vocabulary
    // A special token's text as the vocabulary spells it (what tokenizer_config.json holds).
    func text(_ id: Int?) -> String? { id.map { vocabulary.tokens[$0] } }
    return try jsonResponse(
      TokenizerInfo(
        model: runner.entry.id, tokenizer_class: "muse/" + vocabulary.model,
        bos_token: text(tokenizer.bosToken), eos_token: text(tokenizer.eosToken),
        pad_token: text(vocabulary.paddingToken), unk_token: text(vocabulary.unknownToken),
        add_bos_token: tokenizer.addsBOS, add_eos_token: tokenizer.addsEOS,
        model_max_length: runner.contextLength, vocab_size: tokenizer.vocabularySize,
        chat_template: runner.model.chatTemplate?.source))
  }
}
