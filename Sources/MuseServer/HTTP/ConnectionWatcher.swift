import Foundation
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// One per connection, after HTTP decoding. It closes a connection whose request headers do not
/// arrive in time (at its start, and after each response: slow-header clients and idle
/// keep-alive connections), and tells routes when their client goes away (its side closed or
/// the connection dropped) so a generation stops at its next step, streaming or not.
final class ConnectionWatcher: ChannelDuplexHandler, RemovableChannelHandler, @unchecked Sendable {
  typealias InboundIn = HTTPRequestPart
  typealias InboundOut = HTTPRequestPart
  typealias OutboundIn = HTTPResponsePart
  typealias OutboundOut = HTTPResponsePart

  private let headerTimeout: TimeAmount
  /// Touched on the channel's event loop only.
  private var deadline: Scheduled<Void>?
  /// Requests whose head has arrived and whose response has not ended (event loop only).
  private var inFlight = 0
  private let lock = NSLock()
  private var gone = false
  private var watchers: [UUID: @Sendable () -> Void] = [:]

  init(headerTimeout: TimeAmount) {
    self.headerTimeout = headerTimeout
  }

  func handlerAdded(context: ChannelHandlerContext) {
    if context.channel.isActive { armDeadline(context) }
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    deadline?.cancel()
    deadline = nil
  }

  func channelActive(context: ChannelHandlerContext) {
    armDeadline(context)
    context.fireChannelActive()
  }

  func channelInactive(context: ChannelHandlerContext) {
    deadline?.cancel()
    deadline = nil
    clientGone()
    context.fireChannelInactive()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    if case .head = unwrapInboundIn(data) {
      inFlight += 1
      deadline?.cancel()
      deadline = nil
    }
    context.fireChannelRead(data)
  }

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    // A response has ended: the next request's headers are due within the timeout.
    if case .end = unwrapOutboundIn(data) {
      inFlight = max(inFlight - 1, 0)
      if inFlight == 0 { armDeadline(context) }
    }
    context.write(data, promise: promise)
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if let event = event as? ChannelEvent, event == .inputClosed { clientGone() }
    context.fireUserInboundEventTriggered(event)
  }

  private func armDeadline(_ context: ChannelHandlerContext) {
    deadline?.cancel()
    let channel = context.channel
    deadline = context.eventLoop.scheduleTask(in: headerTimeout) { channel.close(promise: nil) }
  }

  private func clientGone() {
    let callbacks: [@Sendable () -> Void] = lock.withLock {
      guard !gone else { return [] }
      gone = true
      defer { watchers.removeAll() }
      return Array(watchers.values)
    }
    for callback in callbacks { callback() }
  }

  /// Calls `onGone` when the client goes away (at once if it already has).
  func watch(_ onGone: @escaping @Sendable () -> Void) -> ClientWatch {
    let id = UUID()
    let already: Bool = lock.withLock {
      if gone { return true }
      watchers[id] = onGone
      return false
    }
    if already { onGone() }
    return ClientWatch { [weak self] in self?.unwatch(id) }
  }

  private func unwatch(_ id: UUID) {
    lock.withLock { _ = watchers.removeValue(forKey: id) }
  }
}

/// Stops a `ConnectionWatcher.watch` when the request no longer needs it.
struct ClientWatch: Sendable {
  let stop: @Sendable () -> Void
}
