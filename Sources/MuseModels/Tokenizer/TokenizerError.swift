/// Why a tokenizer could not be built from a GGUF file's `tokenizer.ggml.*` metadata. Every case
/// names the file and the key, so a person can tell a broken conversion from a tokenizer family
/// Muse does not implement yet.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
  case missingKey(file: String, key: String)
  case wrongKeyType(file: String, key: String, expected: String)
  case lengthMismatch(file: String, key: String, count: Int, tokenCount: Int)
  case unknownModel(file: String, model: String)
  case unknownPreTokenizer(file: String, pre: String)
  case badMerge(file: String, index: Int, merge: String)
  case missingToken(file: String, token: String, reason: String)
  case emptyVocabulary(file: String)
  /// A `tokenizer.json` component Muse does not implement, or one it cannot read.
  case unsupportedComponent(file: String, component: String, reason: String)

  public var description: String {
    switch self {
    case .missingKey(let file, let key):
      "\(file): missing tokenizer metadata key '\(key)'"
    case .wrongKeyType(let file, let key, let expected):
      "\(file): tokenizer metadata key '\(key)' should be \(expected)"
    case .lengthMismatch(let file, let key, let count, let tokenCount):
      "\(file): '\(key)' has \(count) entries but tokenizer.ggml.tokens has \(tokenCount)"
    case .unknownModel(let file, let model):
      "\(file): tokenizer.ggml.model '\(model)' is not supported"
        + " (Muse reads 'llama' (SentencePiece), 'gpt2' (byte-level BPE) and 'bert' (WordPiece))"
    case .unknownPreTokenizer(let file, let pre):
      "\(file): tokenizer.ggml.pre '\(pre)' names a pre-tokenizer Muse does not know"
    case .badMerge(let file, let index, let merge):
      "\(file): tokenizer.ggml.merges[\(index)] = \"\(merge)\" is not two tokens separated by a space"
    case .missingToken(let file, let token, let reason):
      "\(file): the vocabulary has no token \"\(token)\", which \(reason)"
    case .emptyVocabulary(let file):
      "\(file): tokenizer.ggml.tokens is empty"
    case .unsupportedComponent(let file, let component, let reason):
      "\(file): \(component): \(reason)"
    }
  }
}
