// Tool calls in a conversation, OpenAI-playground style: the conversation holds `tools`, the
// model's calls show collapsed under its reply (name, then the arguments pretty-printed), and
// the user answers each pending call with its result, which goes back to the model.

import { el } from './dom.js';

/** The tools textarea's value as the API's `tools` (null for none), or throws a readable Error. */
export function parseTools(text) {
  if (!text.trim()) return null;
  let tools;
  try {
    tools = JSON.parse(text);
  } catch (error) {
    throw new Error(`Tools must be JSON: ${error.message}`);
  }
  if (!Array.isArray(tools)) throw new Error('Tools must be a JSON array of {"type": "function", …} objects.');
  return tools;
}

/** The tools textarea as the API's `tools`; undefined (and the error shown) when it is not JSON. */
export function readToolsField(textarea, errorElement) {
  try {
    const tools = parseTools(textarea.value);
    errorElement.hidden = true;
    return tools;
  } catch (error) {
    errorElement.textContent = error.message;
    errorElement.hidden = false;
    return undefined;
  }
}

/** The name of the function a call id belongs to, from the conversation's assistant messages. */
export function functionNameOfCall(messages, id) {
  for (const message of messages) {
    const call = (message.tool_calls || []).find((candidate) => candidate.id === id);
    if (call) return call.function.name;
  }
  return null;
}

/** The textarea text for a conversation's tools. */
export function toolsText(tools) {
  return tools && tools.length ? JSON.stringify(tools, null, 2) : '';
}

function pretty(argumentsText) {
  try {
    return JSON.stringify(JSON.parse(argumentsText), null, 2);
  } catch {
    return argumentsText; // Still streaming in: shown as it comes.
  }
}

/** The collapsed blocks of an assistant message's calls. */
export function toolCallsElement(calls) {
  return el('div', { className: 'tool-calls' }, (calls || []).map((call) => el('details', {
    className: 'tool-call',
    dataset: { callId: call.id || '' },
  }, [
    el('summary', {}, [
      document.createTextNode('Called '),
      el('code', { textContent: (call.function && call.function.name) || '' }),
    ]),
    el('pre', { className: 'tool-arguments', textContent: pretty((call.function && call.function.arguments) || '') }),
  ])));
}

/** A `tool` message: the result of one call, collapsed. */
export function toolResultElement(message, callName) {
  return el('details', { className: 'tool-result', dataset: { callId: message.tool_call_id || '' } }, [
    el('summary', {}, [
      document.createTextNode('Result of '),
      el('code', { textContent: callName || message.tool_call_id || 'a call' }),
    ]),
    el('pre', { className: 'tool-output', textContent: message.content }),
  ]);
}

/** The calls of the last assistant message still waiting for results (none once answered). */
export function pendingCalls(messages) {
  const last = messages[messages.length - 1];
  if (!last || last.role !== 'assistant' || !last.tool_calls || !last.tool_calls.length) return [];
  if (last.finish_reason && last.finish_reason !== 'tool_calls') return [];
  return last.tool_calls;
}

/** A form asking for each pending call's result; `onSubmit` gets `[{tool_call_id, content}]`. */
export function toolResultsForm(calls, onSubmit) {
  const fields = calls.map((call, index) => {
    const area = el('textarea', {
      className: 'tool-result-input',
      rows: 2,
      spellcheck: false,
      placeholder: '{"result": …}',
      id: `tool-result-${index}`,
    });
    return { call, area };
  });
  const send = el('button', { type: 'submit', className: 'button primary', textContent: 'Send results' });
  const form = el('form', { className: 'tool-results-form', aria: { label: 'Tool results' } }, [
    ...fields.flatMap(({ call, area }) => [
      el('label', { htmlFor: area.id }, [
        document.createTextNode('Result of '),
        el('code', { textContent: call.function.name }),
      ]),
      area,
    ]),
    el('div', { className: 'editor-actions' }, [send]),
  ]);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (fields.some(({ area }) => !area.value.trim())) {
      fields.find(({ area }) => !area.value.trim()).area.focus();
      return;
    }
    onSubmit(fields.map(({ call, area }) => ({ tool_call_id: call.id, content: area.value })));
  });
  return form;
}
