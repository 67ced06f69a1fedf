// Entry point: decides between the sign-in screen and the app, switches the main views
// (chat, usage, admin), and handles the narrow-screen menu and global keys.

import { api, setSignedOutHandler } from './api.js';
import { renderAdmin } from './admin.js';
import {
  conversationDeleted, conversationRenamed, focusPrompt, initChat, newChat, openConversation, setModels,
  showError, stopStreaming,
} from './chat.js';
import { byId, el } from './dom.js';
import { icon } from './icons.js';
import { initSidebar, loadConversations } from './sidebar.js';
import { state } from './state.js';
import { renderUsage } from './usage.js';

const EXPIRED = 'Your session has expired. Please sign in again.';
const NARROW = window.matchMedia('(max-width: 720px)');

function showSignIn(message) {
  stopStreaming();
  state.user = null;
  state.conversation = null;
  state.messages = [];
  byId('app-view').hidden = true;
  byId('signin-view').hidden = false;
  const notice = byId('signin-message');
  notice.textContent = message || '';
  notice.hidden = !message;
  notice.className = 'notice';
  byId('signin-password').value = '';
  // Nothing typed by the last account carries over to the next one.
  byId('prompt').value = '';
  byId('search').value = '';
  const username = byId('signin-username');
  (username.value ? byId('signin-password') : username).focus();
}

async function enterApp() {
  const me = await api.me();
  state.user = me.user;
  state.models = me.models || [];
  byId('signin-view').hidden = true;
  byId('app-view').hidden = false;
  byId('account-name').textContent = me.user.username;
  byId('show-admin').hidden = !me.user.is_admin;
  setModels(state.models);
  showView('chat');
  newChat();
  await loadConversations();
}

async function signIn(event) {
  event.preventDefault();
  const username = byId('signin-username').value.trim();
  const password = byId('signin-password').value;
  const notice = byId('signin-message');
  if (!username || !password) {
    notice.textContent = 'Enter your username and password.';
    notice.hidden = false;
    return;
  }
  const submit = byId('signin-submit');
  submit.disabled = true;
  submit.textContent = 'Signing in…';
  try {
    await api.login(username, password);
    notice.hidden = true;
    await enterApp();
  } catch (error) {
    notice.textContent = error.message || 'Sign-in failed.';
    notice.hidden = false;
    byId('signin-password').select();
  } finally {
    submit.disabled = false;
    submit.textContent = 'Sign in';
  }
}

async function signOut() {
  stopStreaming();
  try {
    await api.logout();
  } catch {
    // The session may be gone already; signing out locally is what matters.
  }
  byId('signin-username').value = '';
  showSignIn('You have signed out.');
  byId('signin-message').className = 'notice info';
}

const VIEWS = { chat: 'chat-view', usage: 'usage-view', admin: 'admin-view' };
const TITLES = { usage: 'Usage', admin: 'Users and keys' };

async function showView(name) {
  for (const [view, id] of Object.entries(VIEWS)) byId(id).hidden = view !== name;
  byId('chat-tools').hidden = name !== 'chat';
  const title = byId('view-title');
  title.hidden = name === 'chat';
  title.textContent = TITLES[name] || '';
  byId('show-usage').classList.toggle('active', name === 'usage');
  byId('show-admin').classList.toggle('active', name === 'admin');
  closeSidebar();
  if (name === 'chat') return;
  const container = byId(VIEWS[name]);
  try {
    await (name === 'usage' ? renderUsage(container) : renderAdmin(container));
  } catch (error) {
    if (error.status === 401) return;
    container.replaceChildren(el('p', { className: 'chat-error', role: 'alert', textContent: error.message }));
  }
  title.tabIndex = -1;
  title.focus();
}

function openSidebar() {
  document.body.classList.add('sidebar-open');
  byId('scrim').hidden = false;
  byId('open-sidebar').setAttribute('aria-expanded', 'true');
  byId('new-chat').focus();
}

function closeSidebar() {
  if (!document.body.classList.contains('sidebar-open')) return;
  document.body.classList.remove('sidebar-open');
  byId('scrim').hidden = true;
  byId('open-sidebar').setAttribute('aria-expanded', 'false');
}

function init() {
  byId('open-sidebar').replaceChildren(icon('menu'));
  byId('close-sidebar').replaceChildren(icon('close'));
  byId('toggle-settings').prepend(icon('sliders'));
  setSignedOutHandler(() => {
    // Only a page that was signed in has a session to lose; at start-up 401 just means "sign in".
    if (state.user) showSignIn(EXPIRED);
  });
  initChat();
  initSidebar({
    onOpen: async (id) => {
      showView('chat');
      try {
        await openConversation(id);
        focusPrompt();
      } catch (error) {
        showError(error);
      }
    },
    onDeleted: conversationDeleted,
    onRenamed: conversationRenamed,
    onError: showError,
  });
  byId('signin-form').addEventListener('submit', signIn);
  byId('sign-out').addEventListener('click', signOut);
  byId('new-chat').addEventListener('click', () => {
    showView('chat');
    newChat();
  });
  byId('show-usage').addEventListener('click', () => showView('usage'));
  byId('show-admin').addEventListener('click', () => showView('admin'));
  byId('open-sidebar').addEventListener('click', openSidebar);
  byId('close-sidebar').addEventListener('click', closeSidebar);
  byId('scrim').addEventListener('click', closeSidebar);
  NARROW.addEventListener('change', closeSidebar);
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    if (state.streaming) {
      event.preventDefault();
      stopStreaming();
    } else if (document.body.classList.contains('sidebar-open')) {
      closeSidebar();
      byId('open-sidebar').focus();
    }
  });
  enterApp().catch((error) => showSignIn(error.status === 401 ? '' : error.message));
}

init();
