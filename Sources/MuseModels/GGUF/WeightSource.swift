import MuseKernels

/// A tensor's name, ggml-order shape and element type, known without touching its data.
public struct WeightInfo: Sendable, Equatable {
  public let name: String
  /// ggml order: shape[0] is the innermost dimension.
  public let shape: [Int]
  public let type: GGMLType

  public init(name: String, shape: [Int], type: GGMLType) {
    self.name = name
    self.shape = shape
    self.type = type
  }

  public var elementCount: Int { shape.reduce(1, *) }
  public var byteCount: Int { type.byteCount(values: elementCount) }
}

/// Where a model's weights and hyperparameters come from, spoken in GGUF's vocabulary: tensors
/// under llama.cpp names (`blk.N.attn_q.weight`) in ggml shape order, metadata under GGUF keys
/// (`general.architecture`, `{arch}.embedding_length`). `GGUFFile` is one; a Hugging Face
/// checkpoint folder (`HuggingFaceCheckpoint`) is another, mapping its own names on the way in,
/// so the architectures and `TransformerModel` never know which they read.
public protocol WeightSource: AnyObject, Sendable {
  /// The file or folder, for error messages.
  var path: String { get }
  var metadata: [String: GGUFValue] { get }
  /// Tensor names in a stable order (file order for GGUF).
  var tensorNames: [String] { get }
  func tensorInfo(_ name: String) -> WeightInfo?
  /// A view of the tensor's data, valid as long as the source lives.
  func tensor(_ name: String) throws -> TensorView
  /// Touches every page of the weights so the first forward pass does not fault them in.
  func pageIn(progress: (Double) -> Void)
  /// Lets the system drop the memory behind `view` (a tensor of this source that has been
  /// copied elsewhere and will not be read again); a no-op where that is not safe.
  func release(_ view: TensorView)
}

extension WeightSource {
  public func release(_ view: TensorView) {}

  public var architecture: String? { metadata["general.architecture"]?.string }

  public func hasTensor(_ name: String) -> Bool { tensorInfo(name) != nil }

  /// A tensor that must exist, have one of Muse's computable types and the given shape.
  public func tensor(_ name: String, shape: [Int]) throws -> TensorView {
    guard let info = tensorInfo(name) else { throw GGUFError.missingTensor(file: path, tensor: name) }
    guard info.shape == shape else {
      throw GGUFError.wrongTensorShape(file: path, tensor: name, expected: shape, found: info.shape)
    }
    guard info.type.isSupported else {
      throw GGUFError.unsupportedTensorType(file: path, tensor: name, type: info.type.name)
    }
    return try tensor(name)
  }

  public func optionalTensor(_ name: String, shape: [Int]) throws -> TensorView? {
    hasTensor(name) ? try tensor(name, shape: shape) : nil
  }

  public func int(_ key: String) throws -> Int {
    guard let value = metadata[key] else { throw GGUFError.missingKey(file: path, key: key) }
    guard let v = value.int else {
      throw GGUFError.wrongKeyType(file: path, key: key, expected: "an integer")
    }
    return v
  }

  public func double(_ key: String) throws -> Double {
    guard let value = metadata[key] else { throw GGUFError.missingKey(file: path, key: key) }
    guard let v = value.double else {
      throw GGUFError.wrongKeyType(file: path, key: key, expected: "a number")
    }
    return v
  }

  public func string(_ key: String) throws -> String {
    guard let value = metadata[key] else { throw GGUFError.missingKey(file: path, key: key) }
    guard let v = value.string else {
      throw GGUFError.wrongKeyType(file: path, key: key, expected: "a string")
    }
    return v
  }
}

extension GGUFFile: WeightSource {
  public func tensorInfo(_ name: String) -> WeightInfo? {
    tensors[name].map { WeightInfo(name: $0.name, shape: $0.shape, type: $0.type) }
  }
}
