/// Whether a whole text is a sentence of a grammar, for callers outside the engine (the CLI's
/// `muse schema check`, coverage scripts): the same matcher that masks tokens during generation.
extension Grammar {
  /// True when the grammar accepts exactly `text`, to its end: every byte is admitted and the
  /// grammar may stop after the last one.
  public func accepts(_ text: String) -> Bool {
    let matcher = GrammarMatcher(grammar: self)
    return matcher.accept(Array(text.utf8)) && matcher.canEnd
  }
}
