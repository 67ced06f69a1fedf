import Testing

@testable import MuseModels

/// The model cache honours MUSE_CACHE_DIR, then XDG_CACHE_HOME, then the environment's HOME
/// (issue #15: the account's home was used whatever HOME said).
struct CacheDirectoryTests {
  @Test func theEnvironmentDecidesInOrder() {
    #expect(CacheDirectory.resolve(["MUSE_CACHE_DIR": "/m", "XDG_CACHE_HOME": "/x", "HOME": "/h"]) == "/m")
    #expect(CacheDirectory.resolve(["XDG_CACHE_HOME": "/x", "HOME": "/h"]) == "/x/muse")
    #expect(CacheDirectory.resolve(["HOME": "/home/someone"]) == "/home/someone/.cache/muse")
    #expect(
      CacheDirectory.resolve(["MUSE_CACHE_DIR": "", "XDG_CACHE_HOME": "", "HOME": "/h"]) == "/h/.cache/muse")
  }
}
