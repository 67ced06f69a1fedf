// The chat pane: model picker, per-conversation settings, the message list and the composer
// that streams replies (Stop aborts the fetch; the server keeps the partial reply as
// finish_reason "cancelled").

import { ApiError, api, streamMessage } from './api.js';
import { byId, el } from './dom.js';
import { editInPlace, messageElement, updateMessageElement } from './messages.js';
import { announce, modelById, state } from './state.js';
import { functionNameOfCall, pendingCalls, readToolsField, toolResultsForm, toolsText } from './tools.js';

const DEFAULT_TEMPERATURE = 0.7;
const ui = {};

export function initChat() {
  for (const id of ['model-select', 'model-badge', 'model-download', 'toggle-settings', 'settings',
    'system-prompt', 'temperature', 'temperature-value', 'thinking', 'thinking-field', 'messages',
    'empty-chat', 'composer', 'prompt', 'send', 'stop', 'tools', 'tools-error']) {
    ui[id.replace(/-(\w)/g, (_, letter) => letter.toUpperCase())] = byId(id);
  }
  ui.modelSelect.addEventListener('change', () => changeModel(ui.modelSelect.value));
  ui.toggleSettings.addEventListener('click', () => {
    const open = ui.settings.hidden;
    ui.settings.hidden = !open;
    ui.toggleSettings.setAttribute('aria-expanded', String(open));
    if (open) ui.systemPrompt.focus();
  });
  ui.temperature.addEventListener('input', () => {
    ui.temperatureValue.textContent = Number(ui.temperature.value).toFixed(1);
  });
  ui.temperature.addEventListener('change', () => saveSettings({ temperature: Number(ui.temperature.value) }));
  ui.systemPrompt.addEventListener('change', () => saveSettings({ system_prompt: ui.systemPrompt.value }));
  ui.thinking.addEventListener('change', () => saveSettings({ thinking: ui.thinking.checked }));
  ui.tools.addEventListener('change', () => {
    const tools = readTools();
    if (tools !== undefined) saveSettings({ tools });
  });
  ui.settings.addEventListener('submit', (event) => event.preventDefault());

  ui.composer.addEventListener('submit', (event) => {
    event.preventDefault();
    sendPrompt();
  });
  ui.prompt.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendPrompt();
    }
  });
  ui.prompt.addEventListener('input', autosize);
  ui.stop.addEventListener('click', stopStreaming);
}

/** Fills the model picker from /me's models, keeping the current choice when it still exists. */
export function setModels(models) {
  const previous = ui.modelSelect.value;
  ui.modelSelect.replaceChildren(...models.map((model) => el('option', {
    value: model.id,
    textContent: `${model.display_name || model.id}${model.visibility === 'open' ? ' · open weights' : ''}`
      + `${model.allowed === false ? ' (no access)' : ''}`,
  })));
  const preferred = models.find((model) => model.id === previous) ||
    models.find((model) => model.allowed !== false) || models[0];
  if (preferred) ui.modelSelect.value = preferred.id;
  showModel();
}

function showModel() {
  const model = modelById(ui.modelSelect.value);
  ui.modelBadge.hidden = !model;
  ui.modelDownload.hidden = true;
  ui.thinkingField.hidden = true;
  if (!model) return;
  const open = model.visibility === 'open';
  ui.modelBadge.textContent = open ? 'Open weights' : 'Closed';
  ui.modelBadge.className = `badge ${open ? 'open' : 'closed'}`;
  ui.modelBadge.title = open
    ? 'The weights of this model can be downloaded.'
    : 'This model runs only on this server; its weights are not shared.';
  if (open && model.download_url) {
    ui.modelDownload.href = model.download_url;
    ui.modelDownload.hidden = false;
  }
  ui.modelSelect.title = model.description || '';
  ui.thinkingField.hidden = !model.supports_reasoning;
}

async function changeModel(modelId) {
  showModel();
  if (!state.conversation || state.conversation.model === modelId) return;
  await saveSettings({ model: modelId });
}

// Saves go out one after another: two quick changes (arrow keys on the slider) sent in
// parallel could reach the server in either order and leave the older value stored.
let pendingSave = Promise.resolve();

function saveSettings(fields) {
  const id = state.conversation && state.conversation.id;
  if (!id) return pendingSave;
  pendingSave = pendingSave.then(async () => {
    try {
      const updated = await api.updateConversation(id, fields);
      if (state.conversation && state.conversation.id === id) state.conversation = updated;
      announce('conversations-changed');
    } catch (error) {
      showError(error);
    }
  });
  return pendingSave;
}

function readTools() {
  return readToolsField(ui.tools, ui.toolsError);
}

function currentSettings() {
  const model = modelById(ui.modelSelect.value);
  return {
    model: ui.modelSelect.value,
    system_prompt: ui.systemPrompt.value,
    temperature: Number(ui.temperature.value),
    thinking: Boolean(model && model.supports_reasoning && ui.thinking.checked),
    tools: readTools() ?? null,
  };
}

/** Empties the pane for a conversation that will be created by the first message. */
export function newChat() {
  stopStreaming();
  state.conversation = null;
  state.messages = [];
  ui.systemPrompt.value = '';
  ui.temperature.value = String(DEFAULT_TEMPERATURE);
  ui.temperatureValue.textContent = DEFAULT_TEMPERATURE.toFixed(1);
  ui.thinking.checked = false;
  ui.tools.value = '';
  ui.toolsError.hidden = true;
  renderMessages();
  announce('conversation-opened', null);
  ui.prompt.focus();
}

export async function openConversation(id) {
  stopStreaming();
  const { conversation, messages } = await api.conversation(id);
  state.conversation = conversation;
  state.messages = messages;
  if (modelById(conversation.model)) ui.modelSelect.value = conversation.model;
  showModel();
  ui.systemPrompt.value = conversation.system_prompt || '';
  const temperature = conversation.temperature ?? DEFAULT_TEMPERATURE;
  ui.temperature.value = String(temperature);
  ui.temperatureValue.textContent = Number(temperature).toFixed(1);
  ui.thinking.checked = Boolean(conversation.thinking);
  ui.tools.value = toolsText(conversation.tools);
  ui.toolsError.hidden = true;
  renderMessages();
  announce('conversation-opened', conversation.id);
}

/** Forgets the open conversation if it was `id` (deleted from the sidebar). */
export function conversationDeleted(id) {
  if (state.conversation && state.conversation.id === id) newChat();
}

export function conversationRenamed(conversation) {
  if (state.conversation && state.conversation.id === conversation.id) state.conversation = conversation;
}

function messageActions() {
  return { onEdit: editMessage, onRegenerate: regenerate };
}

function renderMessages() {
  const lastAssistant = lastIndexOf('assistant');
  ui.messages.replaceChildren(...state.messages.map((message, index) => {
    if (message.role === 'tool') message.tool_name = callName(message.tool_call_id);
    const article = messageElement(message, messageActions());
    updateMessageElement(article, message, { last: index === lastAssistant });
    message.element = article;
    return article;
  }));
  ui.emptyChat.hidden = state.messages.length > 0;
  showToolResultsForm();
  scrollToEnd(true);
}

function callName(id) {
  return functionNameOfCall(state.messages, id);
}

/** Under a reply that called tools, the form for their results (sent back to the model). */
function showToolResultsForm() {
  ui.messages.querySelector('.tool-results-form')?.remove();
  const calls = pendingCalls(state.messages);
  if (!calls.length || state.streaming) return;
  ui.messages.append(toolResultsForm(calls, async (results) => {
    ui.messages.querySelector('.tool-results-form')?.remove();
    clearErrors();
    const sent = results.map((result) => appendMessage({
      role: 'tool', content: result.content, tool_call_id: result.tool_call_id,
      tool_name: callName(result.tool_call_id), pending: true,
    }));
    const started = await generate({ tool_results: results }, { pendingTools: sent });
    if (!started) {
      for (const message of sent) removeMessage(message);
      showToolResultsForm();
    }
  }));
}

function lastIndexOf(role) {
  for (let i = state.messages.length - 1; i >= 0; i -= 1) if (state.messages[i].role === role) return i;
  return -1;
}

function appendMessage(message) {
  state.messages.push(message);
  message.element = messageElement(message, messageActions());
  ui.messages.append(message.element);
  ui.emptyChat.hidden = true;
  return message;
}

function removeMessage(message) {
  state.messages = state.messages.filter((candidate) => candidate !== message);
  message.element?.remove();
  ui.emptyChat.hidden = state.messages.length > 0;
}

function refreshActions() {
  const lastAssistant = lastIndexOf('assistant');
  state.messages.forEach((message, index) => {
    if (message.element) updateMessageElement(message.element, message, { last: index === lastAssistant });
  });
}

async function sendPrompt() {
  const content = ui.prompt.value;
  if (!content.trim() || state.streaming) return;
  ui.prompt.value = '';
  autosize();
  clearErrors();
  const pending = appendMessage({ role: 'user', content, pending: true });
  scrollToEnd(true);
  try {
    if (!state.conversation) {
      state.conversation = await api.createConversation(currentSettings());
      announce('conversation-opened', state.conversation.id);
    }
  } catch (error) {
    removeMessage(pending);
    ui.prompt.value = content;
    showError(error);
    return;
  }
  await generate({ content }, { pendingUser: pending, restoreText: content });
}

async function regenerate() {
  if (state.streaming || !state.conversation) return;
  const index = lastIndexOf('assistant');
  const previous = index >= 0 ? state.messages[index] : null;
  if (previous) removeMessage(previous);
  clearErrors();
  const started = await generate({ content: '', regenerate: true }, {});
  if (!started && previous) {
    // Refused before streaming (a rate limit, say): the server kept the old reply, so does the page.
    appendMessage(previous);
    refreshActions();
  }
}

async function editMessage(article, message) {
  if (state.streaming) return;
  const content = await editInPlace(article, message);
  if (content === null || content === message.content) return;
  clearErrors();
  const index = state.messages.indexOf(message);
  for (const later of state.messages.slice(index + 1)) removeMessage(later);
  message.content = content;
  updateMessageElement(article, message);
  const started = await generate({ content, edit_message_id: message.id }, { editedUser: message });
  if (!started && state.user && state.conversation) {
    // Refused before streaming: the server changed nothing, so show what it holds (and why).
    const banners = [...ui.messages.querySelectorAll('.chat-error')];
    await openConversation(state.conversation.id).catch(() => {});
    ui.messages.append(...banners);
  }
}

// Streams one reply and tells whether the server started it. `pendingUser` is the optimistic
// bubble of a new message: the server's user_message event gives it its id; an error before
// streaming removes it again.
async function generate(body, { pendingUser = null, restoreText = null, editedUser = null, pendingTools = [] }) {
  const controller = new AbortController();
  state.streaming = controller;
  setStreaming(true);
  const reply = appendMessage({ role: 'assistant', content: '', reasoning: null, finish_reason: null });
  updateMessageElement(reply.element, reply, { streaming: true });
  let started = false;
  let frame = 0;
  const render = () => {
    frame = 0;
    const follow = nearEnd();
    updateMessageElement(reply.element, reply, { streaming: state.streaming === controller });
    if (follow) scrollToEnd(true);
  };
  const schedule = () => {
    if (!frame) frame = requestAnimationFrame(render);
  };
  try {
    await streamMessage(state.conversation.id, body, (event) => {
      started = true;
      switch (event.type) {
        case 'user_message':
          if (pendingUser) {
            Object.assign(pendingUser, event.message, { pending: false });
            updateMessageElement(pendingUser.element, pendingUser);
          } else if (editedUser) {
            Object.assign(editedUser, event.message);
            updateMessageElement(editedUser.element, editedUser);
          }
          break;
        case 'delta':
          reply.content += event.text || '';
          schedule();
          break;
        case 'reasoning_delta':
          reply.reasoning = (reply.reasoning || '') + (event.text || '');
          schedule();
          break;
        case 'tool_messages':
          (event.messages || []).forEach((stored, index) => {
            if (pendingTools[index]) Object.assign(pendingTools[index], stored, { pending: false });
          });
          break;
        case 'tool_call':
          reply.tool_calls = reply.tool_calls || [];
          reply.tool_calls[event.index] = { id: event.id, type: 'function', function: { name: event.name, arguments: '' } };
          schedule();
          break;
        case 'tool_arguments':
          if (reply.tool_calls && reply.tool_calls[event.index]) reply.tool_calls[event.index].function.arguments += event.text || '';
          schedule();
          break;
        case 'done':
          Object.assign(reply, event.message);
          break;
        case 'error':
          reply.error = (event.error && event.error.message) || 'The reply failed.';
          break;
        default:
          break;
      }
    }, controller.signal);
  } catch (error) {
    if (error.name === 'AbortError') {
      reply.finish_reason = 'cancelled';
      started = true; // The server may have begun (and will keep what it wrote): so does the page.
    } else if (!started && !(error instanceof ApiError && error.status === 401)) {
      removeMessage(reply);
      if (pendingUser) {
        removeMessage(pendingUser);
        if (restoreText !== null && !ui.prompt.value) ui.prompt.value = restoreText;
      }
      showError(error);
    } else {
      reply.error = error.message;
    }
  } finally {
    if (frame) cancelAnimationFrame(frame);
    if (state.streaming === controller) state.streaming = null;
    setStreaming(false);
    if (state.messages.includes(reply)) refreshActions();
    showToolResultsForm();
    announce('conversations-changed');
  }
  return started;
}

export function stopStreaming() {
  if (state.streaming) state.streaming.abort();
}

function setStreaming(on) {
  ui.send.hidden = on;
  ui.stop.hidden = !on;
  ui.composer.classList.toggle('busy', on);
  if (!on && document.activeElement === document.body) ui.prompt.focus();
}

function clearErrors() {
  for (const banner of ui.messages.querySelectorAll('.chat-error')) banner.remove();
}

const ERROR_TITLES = { 403: 'Not allowed. ', 429: 'Limit reached. ' };

/** An error the chat shows in place, such as model_not_allowed (403) or a rate limit (429). */
export function showError(error) {
  if (error instanceof ApiError && error.status === 401) return; // The sign-in screen says it.
  const banner = el('div', { className: 'chat-error', role: 'alert' }, [
    el('strong', {
      textContent: error.code === 'content_policy_violation' ? 'Blocked by the content policy. '
        : ERROR_TITLES[error.status] || 'Something went wrong. ',
    }),
    document.createTextNode(error.message || String(error)),
  ]);
  if (error.code) banner.dataset.code = error.code;
  ui.messages.append(banner);
  ui.emptyChat.hidden = true;
  scrollToEnd(true);
}

function nearEnd() {
  const box = ui.messages;
  return box.scrollHeight - box.scrollTop - box.clientHeight < 80;
}

function scrollToEnd(force = false) {
  if (force || nearEnd()) ui.messages.scrollTop = ui.messages.scrollHeight;
}

function autosize() {
  ui.prompt.style.height = 'auto';
  ui.prompt.style.height = `${Math.min(ui.prompt.scrollHeight, 220)}px`;
}

export function focusPrompt() {
  ui.prompt.focus();
}
