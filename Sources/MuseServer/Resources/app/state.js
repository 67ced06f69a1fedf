// What the page knows right now, shared by the modules: who is signed in, the models they
// see, and the open conversation. Modules tell each other about changes with DOM events.

export const state = {
  user: null,
  models: [],
  /** The open conversation, or null for a new chat that is not stored yet. */
  conversation: null,
  messages: [],
  /** The AbortController of the reply being streamed, or null. */
  streaming: null,
};

export function modelById(id) {
  return state.models.find((model) => model.id === id) || null;
}

export function announce(name, detail) {
  document.dispatchEvent(new CustomEvent(`muse:${name}`, { detail }));
}

export function listen(name, handler) {
  document.addEventListener(`muse:${name}`, (event) => handler(event.detail));
}
