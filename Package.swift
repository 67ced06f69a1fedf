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
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
  ],
  targets: [
    // AVX2 / AVX-512 VNNI inner loops, chosen at run time (see Sources/MuseKernelsC/int8_dot.c).
    .target(name: "MuseKernelsC", cSettings: [.unsafeFlags(["-O3"])]),
    .target(name: "MuseKernels", dependencies: ["MuseKernelsC"], swiftSettings: optimised),
    .target(name: "MuseModels", dependencies: ["MuseKernels"], swiftSettings: optimised),
    .target(name: "MuseEngine", dependencies: ["MuseModels", "MuseKernels"], swiftSettings: optimised),
    .executableTarget(
      name: "muse",
      dependencies: [
        "MuseEngine", "MuseModels", "MuseKernels",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    .target(name: "MuseTestSupport", path: "Tests/MuseTestSupport"),
    .testTarget(name: "MuseKernelsTests", dependencies: ["MuseKernels", "MuseTestSupport"]),
    .testTarget(name: "MuseModelsTests", dependencies: ["MuseModels", "MuseKernels", "MuseTestSupport"]),
    .testTarget(
      name: "MuseEngineTests", dependencies: ["MuseEngine", "MuseModels", "MuseKernels", "MuseTestSupport"]),
  ],
  swiftLanguageModes: [.v5]
)
