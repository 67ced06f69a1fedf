import Foundation

/// Where downloaded models are cached: `$MUSE_CACHE_DIR`, else `$XDG_CACHE_HOME/muse`, else
/// `$HOME/.cache/muse` (the environment's HOME, as the README promises, not the account's).
public enum CacheDirectory {
  public static func resolve(_ environment: [String: String]) -> String {
    if let dir = environment["MUSE_CACHE_DIR"], !dir.isEmpty { return dir }
    if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/muse" }
    let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
    return home + "/.cache/muse"
  }
}
