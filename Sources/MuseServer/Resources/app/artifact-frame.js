// The bootstrap of the artifact preview frame. The frame is sandboxed without allow-same-origin,
// so its origin is opaque: what the artifact runs cannot reach the app, its cookies or the API.
// The app posts the artifact's source once; this frame makes it its own document, which keeps
// the frame's Content-Security-Policy (inline scripts and styles allowed, no network).
(function () {
  'use strict';
  let written = false;
  window.addEventListener('message', function onMessage(event) {
    // Only the embedding app may hand over the document, and only once: later messages belong
    // to the artifact's own scripts.
    if (written || event.source !== window.parent) return;
    const data = event.data;
    if (!data || data.type !== 'muse-artifact' || typeof data.source !== 'string') return;
    written = true;
    window.removeEventListener('message', onMessage);
    document.open();
    document.write(data.source);
    document.close();
  });
})();
