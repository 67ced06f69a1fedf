/// The version of Muse this build is, as receipts and `muse --version` state it.
public enum MuseVersion {
  public static let current = "0.1.0"
}
