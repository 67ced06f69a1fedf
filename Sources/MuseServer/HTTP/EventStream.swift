import Hummingbird

/// A server-sent-events response for one generation: `produce` writes events with `send`, which
/// throws `MeteredGeneration.ClientGone` once the client can no longer be written to; the
/// generation is cancelled as soon as the client's side of the connection closes.
func eventStream(
  of generation: MeteredGeneration, context: MuseRequestContext,
  produce: @escaping @Sendable (_ send: (String) async throws -> Void) async -> Void
) async -> Response {
  let watch = await context.watchClient { generation.cancel() }
  let body = ResponseBody { writer in
    defer { watch?.stop() }
    await produce { text in
      do {
        try await writer.write(ByteBuffer(string: text))
      } catch {
        throw MeteredGeneration.ClientGone()
      }
    }
    try? await writer.finish(nil)
  }
  return Response(
    status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
}
