// swift-tools-version:6.0
import PackageDescription

// Numeric targets are always optimised: a debug build of the kernels is 10–100× slower,
// which would make model-level tests crawl.
let optimised: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"])]

let package = Package(
  name: "Muse",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "muse", targets: ["muse"]),
    .library(name: "MuseEngine", targets: ["MuseEngine"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
  ],
  targets: [
    // AVX2 / AVX-512 VNNI inner loops, chosen at run time (see Sources/MuseKernelsC/int8_dot.c).
    .target(name: "MuseKernelsC", cSettings: [.unsafeFlags(["-O3"])]),
    .target(name: "MuseKernels", dependencies: ["MuseKernelsC"], swiftSettings: optimised),
    // The chat templates' Jinja interpreter: no numeric work, so built as the configuration says.
    .target(name: "MuseJinja"),
    .target(
      name: "MuseModels",
      dependencies: ["MuseKernels", "MuseJinja", .product(name: "Crypto", package: "swift-crypto")],
      swiftSettings: optimised),
    .target(
      name: "MuseEngine", dependencies: ["MuseModels", "MuseKernels", "MuseJinja"], swiftSettings: optimised),
    .target(
      name: "MuseStore",
      dependencies: [
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "_CryptoExtras", package: "swift-crypto"),
      ]),
    .target(
      name: "MuseServer",
      dependencies: [
        "MuseEngine", "MuseModels", "MuseJinja", "MuseStore",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "Prometheus", package: "swift-prometheus"),
      ],
      resources: [.copy("Resources")]),
    // `muse eval`: benchmarks against any OpenAI-compatible server; an HTTP client, nothing of the engine.
    .target(name: "MuseEval", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
    .executableTarget(
      name: "muse",
      dependencies: [
        "MuseEngine", "MuseModels", "MuseJinja", "MuseKernels", "MuseServer", "MuseStore", "MuseEval",
        .product(name: "Yams", package: "Yams"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Crypto", package: "swift-crypto"),
      ]),
    .target(name: "MuseTestSupport", path: "Tests/MuseTestSupport"),
    .testTarget(name: "MuseKernelsTests", dependencies: ["MuseKernels", "MuseTestSupport"]),
    .testTarget(name: "MuseEvalTests", dependencies: ["MuseEval", "MuseTestSupport"]),
    .testTarget(name: "MuseJinjaTests", dependencies: ["MuseJinja", "MuseTestSupport"]),
    .testTarget(
      name: "MuseModelsTests", dependencies: ["MuseModels", "MuseJinja", "MuseKernels", "MuseTestSupport"]),
    .testTarget(
      name: "MuseStoreTests",
      dependencies: ["MuseStore", "MuseTestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
    .testTarget(
      name: "MuseServerTests",
      dependencies: [
        "MuseServer", "MuseStore", "MuseEngine", "MuseTestSupport",
        .product(name: "HummingbirdTesting", package: "hummingbird"),
        .product(name: "Logging", package: "swift-log"),
      ]),
    .testTarget(
      name: "MuseEngineTests", dependencies: ["MuseEngine", "MuseModels", "MuseKernels", "MuseTestSupport"]),
  ],
  swiftLanguageModes: [.v5]
)
