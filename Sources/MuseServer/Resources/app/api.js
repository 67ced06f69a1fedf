// The app's JSON API (/app/api/…). Every call goes through `request` so that one place turns
// a 401 into "back to sign-in" and every error into an ApiError carrying the server's message.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let onSignedOut = () => {};

/** Called with the ApiError whenever a call answers 401 (expired or missing session). */
export function setSignedOutHandler(handler) {
  onSignedOut = handler;
}

async function errorFrom(response) {
  let code = null;
  let message = `The server answered ${response.status}.`;
  try {
    const body = await response.json();
    if (body && body.error) {
      code = body.error.code || body.error.type || null;
      if (body.error.message) message = body.error.message;
    }
  } catch {
    // Not JSON (a proxy's page): the status line is all we can say.
  }
  const error = new ApiError(response.status, code, message);
  if (response.status === 401) onSignedOut(error);
  return error;
}

async function send(method, path, body, signal) {
  const headers = { Accept: 'application/json' };
  // The server refuses state-changing requests without this header (CSRF guard).
  if (method !== 'GET') headers['X-Muse-App'] = '1';
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(`/app/api/${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      signal,
    });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, 'network_error', 'Cannot reach the server. Check your connection and try again.');
  }
  if (!response.ok) throw await errorFrom(response);
  return response;
}

async function json(method, path, body) {
  const response = await send(method, path, body);
  if (response.status === 204) return null;
  return response.json();
}

export const api = {
  login: (username, password) => json('POST', 'login', { username, password }),
  logout: () => json('POST', 'logout'),
  me: () => json('GET', 'me'),
  conversations: (query) =>
    json('GET', query ? `conversations?q=${encodeURIComponent(query)}` : 'conversations'),
  createConversation: (fields) => json('POST', 'conversations', fields),
  conversation: (id) => json('GET', `conversations/${encodeURIComponent(id)}`),
  updateConversation: (id, fields) => json('PATCH', `conversations/${encodeURIComponent(id)}`, fields),
  deleteConversation: (id) => json('DELETE', `conversations/${encodeURIComponent(id)}`),
  usage: () => json('GET', 'usage'),
  adminUsers: () => json('GET', 'admin/users'),
};

/**
 * Posts a message and calls `onEvent` with each server-sent event's JSON as it arrives.
 * Resolves when the stream ends; rejects with ApiError before streaming (403, 429, …) or
 * with an AbortError when `signal` is aborted (the Stop button).
 */
export async function streamMessage(conversationId, body, onEvent, signal) {
  const response = await send(
    'POST', `conversations/${encodeURIComponent(conversationId)}/messages`, body, signal);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    buffer = dispatchEvents(buffer, onEvent);
  }
  buffer += decoder.decode();
  dispatchEvents(`${buffer}\n\n`, onEvent);
}

// SSE framing (WHATWG "server-sent events" §9.2.6): events end at a blank line; the data of
// an event is its `data:` lines joined by newlines. Returns the unfinished tail.
function dispatchEvents(buffer, onEvent) {
  const normalized = buffer.replace(/\r\n?/g, '\n');
  const parts = normalized.split('\n\n');
  const tail = parts.pop();
  for (const block of parts) {
    const data = block
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).replace(/^ /, ''))
      .join('\n');
    if (!data || data === '[DONE]') continue;
    let event;
    try {
      event = JSON.parse(data);
    } catch {
      continue; // A comment or keep-alive that is not JSON carries nothing for us.
    }
    onEvent(event);
  }
  return tail;
}
