import ArgumentParser
import Foundation
import MuseEngine
import MuseServer
import Yams

/// Reads a guard policy file (YAML or JSON), naming the file in every error.
enum GuardPolicyFile {
  /// The policy of a command's `--policy FILE` (if any) and its `--guard` rules, added in order;
  /// nil when neither is given.
  static func policy(file: String?, rules: [String]) throws -> GuardPolicy? {
    guard file != nil || !rules.isEmpty else { return nil }
    var policy = try file.map(read) ?? GuardPolicy()
    do {
      for rule in rules { try policy.add(flag: rule) }
    } catch let error as GuardPolicyError {
      throw ValidationError(error.description)
    }
    return policy
  }

  /// `Guardrails.bind` for a command: a policy that cannot run is a usage error.
  static func bind(
    _ policy: GuardPolicy, model: String, visibility: Visibility, models: [String: ModelRunner] = [:],
    moderation: ModerationClassifier?
  ) throws -> ModelGuard {
    do {
      return try Guardrails.bind(
        policy, model: model, visibility: visibility, models: models, moderation: moderation)
    } catch let error as GuardPolicyError {
      throw ValidationError(error.description)
    }
  }

  static func read(_ path: String) throws -> GuardPolicy {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ValidationError("\(path): cannot read the guard policy file")
    }
    do {
      return try YAMLDecoder().decode(GuardPolicy.self, from: String(decoding: data, as: UTF8.self))
    } catch {
      throw ValidationError("\(path): not a valid guard policy: \(error)")
    }
  }
}

/// The built-in moderation classifier: over a served all-MiniLM-L6-v2 whose weights match the
/// bundled head, or over the folder `--moderation-model` names.
enum ModerationSetup {
  static func classifier(folder: String?, embedders: [EmbeddingRunner]) throws -> ModerationClassifier? {
    guard folder != nil || !embedders.isEmpty else { return nil }
    let head: ModerationHead
    do {
      head = try ModerationHead.bundled()
    } catch {
      throw ValidationError("the built-in moderation head could not be read: \(error)")
    }
    if let folder {
      do {
        return try ModerationClassifier(model: EmbeddingModel(path: folder), head: head)
      } catch {
        throw ValidationError("\(folder): cannot use it for moderation: \(error)")
      }
    }
    // Its own copy of the encoder: the served one runs on the embedding route's queue, and the
    // encoder's buffers are not shared between threads.
    for embedder in embedders where embedder.weightsDigest == head.embeddingModel.sha256 {
      return try ModerationClassifier(model: EmbeddingModel(path: embedder.model.path), head: head)
    }
    return nil
  }
}
