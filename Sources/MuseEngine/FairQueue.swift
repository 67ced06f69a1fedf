/// Waiting requests, served round-robin by owner (an API key): each owner's requests keep
/// their order, and owners take turns, so one owner's flood cannot starve another's single
/// request. The turn goes to the waiting owner served longest ago (or never), so an owner whose
/// request was just admitted waits behind the others even if its queue had emptied meanwhile.
/// Bounded: `push` refuses once `capacity` requests wait.
struct FairQueue<Element> {
  let capacity: Int
  private var queues: [String: [Element]] = [:]
  /// Owners with waiting requests, in order of arrival.
  private var turns: [String] = []
  /// When each owner was last served, as a count of pops.
  private var lastServed: [String: Int] = [:]
  private var served = 0
  private(set) var count = 0

  init(capacity: Int) { self.capacity = capacity }

  var isEmpty: Bool { count == 0 }

  /// Adds `element` behind `owner`'s earlier requests; false when the queue is full.
  mutating func push(_ element: Element, owner: String) -> Bool {
    guard count < capacity else { return false }
    if queues[owner, default: []].isEmpty { turns.append(owner) }
    queues[owner, default: []].append(element)
    count += 1
    return true
  }

  /// The owner whose turn it is: the one served longest ago, earliest arrival on a tie.
  private var nextOwner: String? {
    turns.min { (lastServed[$0] ?? 0) < (lastServed[$1] ?? 0) }
  }

  /// The request served next, without taking it.
  var next: Element? { nextOwner.flatMap { queues[$0]?.first } }

  /// Takes the next request.
  mutating func pop() -> Element? {
    guard let owner = nextOwner, var queue = queues[owner], !queue.isEmpty else { return nil }
    let element = queue.removeFirst()
    served += 1
    lastServed[owner] = served
    if queue.isEmpty {
      queues[owner] = nil
      turns.removeAll { $0 == owner }
    } else {
      queues[owner] = queue
    }
    count -= 1
    return element
  }

  /// Drops every waiting request `shouldRemove` picks, returning them.
  mutating func removeAll(where shouldRemove: (Element) -> Bool) -> [Element] {
    var removed: [Element] = []
    for owner in turns {
      guard let queue = queues[owner] else { continue }
      let kept = queue.filter { !shouldRemove($0) }
      removed += queue.filter(shouldRemove)
      queues[owner] = kept.isEmpty ? nil : kept
    }
    turns.removeAll { queues[$0] == nil }
    count -= removed.count
    return removed
  }
}
