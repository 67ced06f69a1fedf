// The conversation list: search (titles and message text, on the server), open, rename in
// place, delete after a confirmation.

import { api } from './api.js';
import { byId, el } from './dom.js';
import { icon } from './icons.js';
import { listen, state } from './state.js';

const SEARCH_DELAY_MS = 250;
let handlers = {};
let searchTimer = 0;
let loadSerial = 0;

/** `handlers`: onOpen(id), onDeleted(id), onRenamed(conversation), onError(error). */
export function initSidebar(callbacks) {
  handlers = callbacks;
  const search = byId('search');
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(loadConversations, SEARCH_DELAY_MS);
  });
  search.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && search.value) {
      event.stopPropagation();
      search.value = '';
      loadConversations();
    }
  });
  listen('conversations-changed', () => loadConversations());
  listen('conversation-opened', markCurrent);
}

export async function loadConversations() {
  const serial = ++loadSerial;
  const query = byId('search').value.trim();
  let data;
  try {
    ({ data } = await api.conversations(query));
  } catch (error) {
    handlers.onError?.(error);
    return;
  }
  if (serial !== loadSerial) return; // A newer search answered first.
  const list = byId('conversation-list');
  list.replaceChildren(...data.map(conversationItem));
  const empty = byId('conversation-empty');
  empty.textContent = query ? 'No conversation matches.' : 'No conversations yet.';
  empty.hidden = data.length > 0;
  markCurrent();
}

function conversationItem(conversation) {
  const title = conversation.title || 'New conversation';
  const open = el('button', {
    type: 'button', className: 'conversation-open', textContent: title, title,
  });
  open.addEventListener('click', () => handlers.onOpen(conversation.id));
  const rename = el('button', {
    type: 'button', className: 'icon-button rename', aria: { label: `Rename “${title}”` },
  }, [icon('pencil')]);
  const remove = el('button', {
    type: 'button', className: 'icon-button delete', aria: { label: `Delete “${title}”` },
  }, [icon('trash')]);
  const item = el('li', { className: 'conversation-item', dataset: { id: conversation.id } }, [
    open, el('span', { className: 'conversation-actions' }, [rename, remove]),
  ]);
  rename.addEventListener('click', () => startRename(item, conversation));
  remove.addEventListener('click', () => confirmDelete(item, conversation));
  return item;
}

function markCurrent() {
  const current = state.conversation ? state.conversation.id : null;
  for (const item of document.querySelectorAll('.conversation-item')) {
    const active = item.dataset.id === current;
    item.classList.toggle('active', active);
    const button = item.querySelector('.conversation-open');
    if (!button) continue; // The item is being renamed or confirming a delete.
    if (active) button.setAttribute('aria-current', 'page');
    else button.removeAttribute('aria-current');
  }
}

function startRename(item, conversation) {
  const input = el('input', {
    className: 'rename-input', value: conversation.title || '', aria: { label: 'New title' }, maxLength: 200,
  });
  const original = [...item.children];
  item.replaceChildren(input);
  input.focus();
  input.select();
  let done = false;
  const finish = async (save) => {
    if (done) return;
    done = true;
    const title = input.value.trim();
    if (!save || !title || title === conversation.title) {
      item.replaceChildren(...original);
      item.querySelector('.rename').focus();
      return;
    }
    try {
      const updated = await api.updateConversation(conversation.id, { title });
      handlers.onRenamed?.(updated);
    } catch (error) {
      handlers.onError?.(error);
    }
    await loadConversations();
  };
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      finish(true);
    } else if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      finish(false);
    }
  });
  input.addEventListener('blur', () => finish(true));
}

function confirmDelete(item, conversation) {
  const original = [...item.children];
  const question = el('span', { className: 'confirm-text', textContent: 'Delete this chat?' });
  const yes = el('button', { type: 'button', className: 'button danger small confirm-delete', textContent: 'Delete' });
  const no = el('button', { type: 'button', className: 'button subtle small', textContent: 'Cancel' });
  item.replaceChildren(el('div', { className: 'confirm', role: 'group', aria: { label: 'Confirm delete' } }, [question, no, yes]));
  no.focus();
  no.addEventListener('click', () => {
    item.replaceChildren(...original);
    item.querySelector('.delete').focus();
  });
  yes.addEventListener('click', async () => {
    try {
      await api.deleteConversation(conversation.id);
      handlers.onDeleted?.(conversation.id);
    } catch (error) {
      handlers.onError?.(error);
    }
    await loadConversations();
    byId('new-chat').focus();
  });
}
