// One chat message as DOM: role, optional reasoning, the Markdown body, its status line and
// its actions. Re-rendering a message rebuilds its body from the full text, so a reply that
// streams in looks exactly like the stored one once it is done.

import { copyText, el, flashLabel } from './dom.js';
import { renderMarkdown } from './markdown.js';
import { toolCallsElement, toolResultElement } from './tools.js';

const FINISH_NOTES = {
  cancelled: 'Stopped',
  length: 'Stopped at the length limit',
  content_filter: 'Stopped by the content policy: the rest of this reply was withheld',
};

const ROLE_NAMES = { user: 'You', assistant: 'Assistant', tool: 'Tool' };

/** Creates the element of `message`; `actions` holds the callbacks for its buttons. */
export function messageElement(message, actions) {
  const article = el('article', {
    className: `message ${message.role}`,
    dataset: { role: message.role },
  });
  const header = el('div', { className: 'message-role', textContent: ROLE_NAMES[message.role] || message.role });
  article.append(header);
  if (message.role === 'assistant') {
    const reasoning = el('details', { className: 'reasoning' }, [
      el('summary', { textContent: 'Thinking' }),
      el('div', { className: 'reasoning-text' }),
    ]);
    reasoning.hidden = true;
    article.append(reasoning);
  }
  article.append(el('div', { className: `message-body${message.role === 'assistant' ? ' markdown' : ''}` }));
  if (message.role === 'assistant') article.append(el('div', { className: 'tool-calls' }));
  article.append(el('p', { className: 'message-status', role: 'status' }));
  article.append(el('div', { className: 'message-actions' }));
  article.museActions = actions;
  updateMessageElement(article, message);
  return article;
}

/** Brings `article` in line with `message` (content, reasoning, status, actions). */
export function updateMessageElement(article, message, { streaming = false, last = false } = {}) {
  if (message.id) article.dataset.id = message.id;
  article.classList.toggle('streaming', streaming);
  // Screen readers wait for the finished reply instead of reading every re-render.
  article.setAttribute('aria-busy', String(streaming));
  const body = article.querySelector('.message-body');
  if (message.role === 'user') {
    body.textContent = message.content;
  } else if (message.role === 'tool') {
    body.replaceChildren(toolResultElement(message, message.tool_name));
  } else {
    body.replaceChildren(renderMarkdown(message.content || '', {
      onCopy: copyCode,
      onPreview: togglePreview,
    }));
    if (streaming && !message.content) body.append(el('span', { className: 'typing', aria: { label: 'Writing' } }));
    const reasoning = article.querySelector('.reasoning');
    reasoning.hidden = !message.reasoning;
    reasoning.querySelector('.reasoning-text').textContent = message.reasoning || '';
    article.querySelector('.tool-calls').replaceWith(toolCallsElement(message.tool_calls));
  }
  const status = article.querySelector('.message-status');
  const note = message.error || FINISH_NOTES[message.finish_reason] || '';
  status.textContent = note;
  status.hidden = !note;
  article.dataset.finishReason = message.finish_reason || '';
  article.classList.toggle('failed', Boolean(message.error));
  renderActions(article, message, streaming, last);
}

function renderActions(article, message, streaming, last) {
  const bar = article.querySelector('.message-actions');
  bar.replaceChildren();
  if (streaming) return;
  const actions = article.museActions || {};
  const copy = el('button', { type: 'button', className: 'chip copy-message', textContent: 'Copy' });
  copy.addEventListener('click', () => copyCode(message.content || '', copy));
  bar.append(copy);
  if (message.role === 'user' && message.id && actions.onEdit) {
    const edit = el('button', { type: 'button', className: 'chip edit-message', textContent: 'Edit' });
    edit.addEventListener('click', () => actions.onEdit(article, message));
    bar.append(edit);
  }
  if (message.role === 'assistant' && last && actions.onRegenerate) {
    const again = el('button', { type: 'button', className: 'chip regenerate', textContent: 'Regenerate' });
    again.addEventListener('click', () => actions.onRegenerate());
    bar.append(again);
  }
}

async function copyCode(text, button) {
  flashLabel(button, (await copyText(text)) ? 'Copied' : 'Copy failed');
}

const ARTIFACT_FRAME = '/app/artifact-frame.html';

// The artifact runs in an iframe with an opaque origin (sandbox without allow-same-origin):
// its scripts cannot reach this page, its cookies or the API. The frame loads its own document,
// whose Content-Security-Policy lets the artifact's scripts run but fetch nothing (srcdoc would
// inherit this page's policy and leave interactive artifacts dead); the source is posted to it
// once it has loaded. An opaque origin cannot be named, hence the '*' target; the frame only
// accepts the first message, and only from this window.
function togglePreview(figure, code, kind, button) {
  const existing = figure.nextElementSibling;
  if (existing && existing.classList.contains('artifact')) {
    existing.remove();
    button.textContent = 'Preview';
    button.setAttribute('aria-expanded', 'false');
    return;
  }
  const frame = el('iframe', {
    className: `artifact-frame ${kind}`,
    title: kind === 'svg' ? 'SVG preview' : 'HTML preview',
    referrerPolicy: 'no-referrer',
  });
  frame.setAttribute('sandbox', 'allow-scripts');
  frame.addEventListener('load', () => {
    frame.contentWindow?.postMessage({ type: 'muse-artifact', source: code }, '*');
  }, { once: true });
  frame.src = ARTIFACT_FRAME;
  figure.after(el('div', { className: 'artifact' }, [frame]));
  button.textContent = 'Hide preview';
  button.setAttribute('aria-expanded', 'true');
}

/** An inline editor replacing a user message's body; resolves the new text or null. */
export function editInPlace(article, message) {
  return new Promise((resolve) => {
    const body = article.querySelector('.message-body');
    const actions = article.querySelector('.message-actions');
    const area = el('textarea', { className: 'edit-area', value: message.content, aria: { label: 'Edit message' } });
    const save = el('button', { type: 'button', className: 'button primary', textContent: 'Save & send' });
    const cancel = el('button', { type: 'button', className: 'button subtle', textContent: 'Cancel' });
    const editor = el('div', { className: 'editor' }, [area, el('div', { className: 'editor-actions' }, [cancel, save])]);
    body.hidden = true;
    actions.hidden = true;
    body.after(editor);
    area.focus();
    const finish = (value) => {
      editor.remove();
      body.hidden = false;
      actions.hidden = false;
      resolve(value);
    };
    save.addEventListener('click', () => finish(area.value.trim() ? area.value : null));
    cancel.addEventListener('click', () => finish(null));
    area.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        save.click();
      } else if (event.key === 'Escape') {
        event.preventDefault();
        event.stopPropagation();
        cancel.click();
      }
    });
  });
}
