import Testing

@testable import MuseKernels

/// Choosing a kernel level by name (`muse bench --kernel-level`, MUSE_KERNEL_LEVEL).
struct KernelDispatchTests {
  #if arch(arm64)
    static let levelNames = ["portable", "avx2", "vnni", "avx512", "neon"]
  #else
    static let levelNames = ["portable", "avx2", "vnni", "avx512"]
  #endif

  @Test func levelsAreNamedAsTheCommandLineSpellsThem() {
    #expect(KernelDispatch.Level.allCases.map(\.name) == Self.levelNames)
    for level in KernelDispatch.Level.allCases {
      #expect(KernelDispatch.Level(name: level.name) == level)
      #expect(KernelDispatch.Level(name: level.name.uppercased()) == level)
    }
    #expect(KernelDispatch.Level(name: "avx512vnni") == nil)
  }

  /// Every level the CPU has is accepted; every other one is refused with what it needs and
  /// what this CPU can run instead; an unknown name lists the names.
  @Test func levelsTheCPULacksAreRefused() {
    #expect(KernelDispatch.supports(.portable))
    #expect(
      KernelDispatch.available.contains(.portable) && KernelDispatch.available.contains(KernelDispatch.best))
    for level in KernelDispatch.Level.allCases {
      let result = KernelDispatch.checked(name: level.name, source: "--kernel-level")
      switch result {
      case .success(let chosen):
        #expect(KernelDispatch.supports(level) && chosen == level)
      case .failure(let error):
        #expect(!KernelDispatch.supports(level))
        #expect(error.description.contains(level.requirement), "\(error)")
        #expect(error.description.contains("levels it can run: portable"), "\(error)")
      }
    }
    guard case .failure(let error) = KernelDispatch.checked(name: "sse9", source: "MUSE_KERNEL_LEVEL") else {
      Issue.record("an unknown level was accepted")
      return
    }
    #expect(
      error.description
        == "MUSE_KERNEL_LEVEL 'sse9' is not a kernel level (\(Self.levelNames.joined(separator: ", ")))")
  }

  /// The 16-row layout is used at every level with a 16-row kernel, never at the portable one,
  /// and only for the formats that have one (Q8_0 not at AVX2, where rows are faster);
  /// `kernelPath` says so.
  @Test func repackingFollowsTheLevel() {
    for level in KernelDispatch.Level.allCases {
      for type in [GGMLType.q4_0, .q4_1, .q8_0, .q4_K, .q6_K, .f16] {
        let repacks = InterleavedWeights.repacks(type, level: level)
        let expected =
          level != .portable && [.q4_0, .q4_1, .q8_0, .q4_K, .q6_K].contains(type)
          && !(level == .avx2 && type == .q8_0)
        #expect(repacks == expected, "\(type.name) \(level)")
        #expect(KernelDispatch.kernelPath(for: type, level: level).hasPrefix(repacks ? "16-row" : "rows"))
      }
    }
    #expect(KernelDispatch.kernelPath(for: .q4_1, level: .avx2).contains("vpmaddubsw"))
    #expect(KernelDispatch.kernelPath(for: .q8_0, level: .avxvnni).contains("24-bit"))
    #if arch(x86_64)
      #expect(KernelDispatch.kernelPath(for: .q8_0, level: .avx2) == "rows, float activations, C AVX2")
    #else
      #expect(KernelDispatch.kernelPath(for: .q8_0, level: .avx2) == "rows, float activations, Swift")
    #endif
    #if arch(arm64)
      #expect(
        KernelDispatch.kernelPath(for: .q8_0, level: .neon)
          == "16-row interleaved, 24-bit activations, NEON sdot")
      #expect(
        KernelDispatch.kernelPath(for: .q6_K, level: .neon)
          == "16-row interleaved, 16-bit activations, NEON sdot")
    #endif
    #if arch(x86_64)
      for type in [GGMLType.q4_K, .q6_K] {
        #expect(
          KernelDispatch.kernelPath(for: type, level: .avx512vnni).contains(
            "16-bit activations, AVX-512 vpdpbusd"))
      }
    #endif
  }
}
