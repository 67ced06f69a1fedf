/// A binary min-heap: the work queue of the BPE and SentencePiece merge loops, which pop the
/// best remaining pair (`<` means "merge first") in O(log n). Sifts move a hole instead of
/// swapping, over the array's buffer.
struct MinHeap<Element: Comparable> {
  private var items: [Element] = []

  init(capacity: Int = 0) { items.reserveCapacity(capacity) }

  var isEmpty: Bool { items.isEmpty }

  mutating func push(_ element: Element) {
    items.append(element)
    items.withUnsafeMutableBufferPointer { h in
      var child = h.count - 1
      while child > 0 {
        let parent = (child - 1) / 2
        guard element < h[parent] else { break }
        h[child] = h[parent]
        child = parent
      }
      h[child] = element
    }
  }

  mutating func pop() -> Element? {
    guard let last = items.popLast() else { return nil }
    guard !items.isEmpty else { return last }
    return items.withUnsafeMutableBufferPointer { h in
      let top = h[0]
      let count = h.count
      var hole = 0
      while true {
        let left = 2 * hole + 1
        guard left < count else { break }
        let right = left + 1
        let child = right < count && h[right] < h[left] ? right : left
        guard h[child] < last else { break }
        h[hole] = h[child]
        hole = child
      }
      h[hole] = last
      return top
    }
  }
}
