import Foundation

/// Why a GGUF file could not be read. Every case names the file and where reading stopped,
/// so a person can tell a truncated download from a format Muse does not support.
public enum GGUFError: Error, CustomStringConvertible, Equatable {
  case cannotOpen(file: String, reason: String)
  case badMagic(file: String, found: String)
  case unsupportedVersion(file: String, version: UInt32)
  case truncated(file: String, offset: Int, needed: Int, what: String)
  case corrupt(file: String, offset: Int, reason: String)
  case unknownValueType(file: String, key: String, type: UInt32)
  case unknownTensorType(file: String, tensor: String, type: UInt32)
  case tensorOutOfBounds(file: String, tensor: String, end: Int, fileSize: Int)
  case missingKey(file: String, key: String)
  case wrongKeyType(file: String, key: String, expected: String)
  case missingTensor(file: String, tensor: String)
  case wrongTensorShape(file: String, tensor: String, expected: [Int], found: [Int])
  case unsupportedTensorType(file: String, tensor: String, type: String)

  public var description: String {
    switch self {
    case .cannotOpen(let file, let reason):
      "\(file): cannot open: \(reason)"
    case .badMagic(let file, let found):
      "\(file): not a GGUF file (expected magic \"GGUF\" at offset 0, found \(found))"
    case .unsupportedVersion(let file, let version):
      "\(file): GGUF version \(version) is not supported (expected 2 or 3)"
    case .truncated(let file, let offset, let needed, let what):
      "\(file): truncated at offset \(offset): expected \(needed) more bytes for \(what)"
    case .corrupt(let file, let offset, let reason):
      "\(file): corrupt at offset \(offset): \(reason)"
    case .unknownValueType(let file, let key, let type):
      "\(file): metadata key '\(key)' has unknown value type \(type)"
    case .unknownTensorType(let file, let tensor, let type):
      "\(file): tensor '\(tensor)' has unknown ggml type \(type)"
    case .tensorOutOfBounds(let file, let tensor, let end, let fileSize):
      "\(file): tensor '\(tensor)' ends at byte \(end), past the end of the file (\(fileSize) bytes)"
    case .missingKey(let file, let key):
      "\(file): missing metadata key '\(key)'"
    case .wrongKeyType(let file, let key, let expected):
      "\(file): metadata key '\(key)' should be \(expected)"
    case .missingTensor(let file, let tensor):
      "\(file): missing tensor '\(tensor)'"
    case .wrongTensorShape(let file, let tensor, let expected, let found):
      "\(file): tensor '\(tensor)' has shape \(found), expected \(expected)"
    case .unsupportedTensorType(let file, let tensor, let type):
      "\(file): tensor '\(tensor)' is stored as \(type), which Muse cannot compute with yet"
        + " (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q6_K)"
    }
  }
}
