import Foundation
import MuseKernels
import MuseModels

/// A sentence-embedding model: a Hugging Face folder holding a BERT-style encoder
/// (`config.json`, `model.safetensors`, `tokenizer.json`, and for sentence-transformers models
/// `sentence_bert_config.json`), e.g. all-MiniLM-L6-v2. Each text is tokenized with [CLS]/[SEP],
/// truncated to `maxTokens` as sentence-transformers does (the first `maxTokens − 1` tokens,
/// then [SEP]), encoded, mean-pooled and L2-normalised.
public final class EmbeddingModel: @unchecked Sendable {
  public let path: String
  public let encoder: BertEncoder
  public let tokenizer: Tokenizer

  /// Length of each vector (the encoder's hidden size).
  public var dimensions: Int { encoder.config.hiddenSize }
  /// The most tokens of one text the model looks at, [CLS] and [SEP] included; the rest is cut.
  public var maxTokens: Int { encoder.config.maxTokens }

  /// `threads`: worker threads for the matrix products (default: the shared pool, one per core).
  public init(path: String, threads: Int? = nil) throws {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue
    else {
      throw BertEncoderError.missingFile(folder: path, file: "(the folder itself: not a directory)")
    }
    let pool = threads.map { ThreadPool(threads: $0) } ?? .shared
    encoder = try BertEncoder(folder: path, pool: pool)
    let tokenizerPath = path + "/tokenizer.json"
    guard FileManager.default.fileExists(atPath: tokenizerPath) else {
      throw BertEncoderError.missingFile(folder: path, file: "tokenizer.json")
    }
    tokenizer = try Tokenizer(huggingFace: tokenizerPath)
    self.path = path
  }

  /// The token ids the model encodes for `text`: with [CLS]/[SEP], truncated to `maxTokens`.
  public func tokens(_ text: String) -> [Int] {
    let ids = tokenizer.encode(text, addSpecial: true)
    guard ids.count > maxTokens else { return ids }
    // Keep the trailing special token(s) the post-processor added, as HF truncation does.
    let suffix = tokenizer.addsEOS && ids.last == tokenizer.eosToken ? 1 : 0
    return Array(ids.prefix(maxTokens - suffix)) + ids.suffix(suffix)
  }

  /// Unit-length embeddings of `texts`, in order, and the number of tokens encoded in all
  /// (after truncation, special tokens included).
  public func embed(_ texts: [String]) throws -> (vectors: [[Float]], tokens: Int) {
    var vectors: [[Float]] = []
    vectors.reserveCapacity(texts.count)
    var total = 0
    for text in texts {
      let ids = tokens(text)
      vectors.append(try encoder.embed(ids))
      total += ids.count
    }
    return (vectors, total)
  }
}
