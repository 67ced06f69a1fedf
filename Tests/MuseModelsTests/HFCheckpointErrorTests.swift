import Foundation
import MuseTestSupport
import Testing

@testable import MuseModels

/// A broken checkpoint folder gives one error that names the file and what is wrong.
struct HFCheckpointErrorTests {
  /// A copy of a fixture folder to break.
  func copy(_ name: String) throws -> URL {
    let dir = try TestPaths.temporaryDirectory().appendingPathComponent(name)
    try FileManager.default.copyItem(
      at: TestPaths.fixtures.appendingPathComponent("hf/\(name)"), to: dir)
    return dir
  }

  func message(_ body: () throws -> Void) -> String {
    do {
      try body()
      return "no error"
    } catch {
      return "\(error)"
    }
  }

  @Test func malformedConfig() throws {
    let dir = try copy("llama-f32")
    try "{\"hidden_size\": 64,".write(
      to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
    let e = message { _ = try TransformerModel(file: HuggingFaceCheckpoint(folder: dir.path)) }
    #expect(e.contains("config.json"), "\(e)")
  }

  @Test func missingShard() throws {
    let dir = try copy("llama-bf16-sharded")
    try FileManager.default.removeItem(at: dir.appendingPathComponent("model-00002-of-00002.safetensors"))
    let e = message { _ = try TransformerModel(file: HuggingFaceCheckpoint(folder: dir.path)) }
    #expect(e.contains("model-00002-of-00002.safetensors"), "\(e)")
  }

  @Test func tensorWithTheWrongShape() throws {
    let dir = try copy("llama-f32")
    let url = dir.appendingPathComponent("config.json")
    var config = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    config["intermediate_size"] = (config["intermediate_size"] as! Int) * 2
    try JSONSerialization.data(withJSONObject: config).write(to: url)
    let e = message { _ = try TransformerModel(file: HuggingFaceCheckpoint(folder: dir.path)) }
    #expect(e.contains("shape") && (e.contains("ffn_") || e.contains("mlp")), "\(e)")
  }

  @Test func templateSyntaxErrorNamesThePlace() {
    let e = message { _ = try ChatTemplate(source: "{% for m in messages %}\n{{ m.content }\n{% endfor %}") }
    #expect(e.contains("line 2"), "\(e)")
  }
}
