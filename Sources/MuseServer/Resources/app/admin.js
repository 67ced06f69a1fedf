// The admin page: every user with their key (prefix, allowed models, limits) and this
// month's usage. The server answers 403 admin_required to anyone else.

import { api } from './api.js';
import { el, formatDate, formatNumber, formatUsd } from './dom.js';

function limitsText(limits) {
  if (!limits) return 'No limits';
  const parts = [];
  if (limits.requests_per_minute) parts.push(`${formatNumber(limits.requests_per_minute)} req/min`);
  if (limits.tokens_per_minute) parts.push(`${formatNumber(limits.tokens_per_minute)} tok/min`);
  if (limits.budget_tokens) parts.push(`${formatNumber(limits.budget_tokens)} tokens/${limits.budget_period || 'month'}`);
  if (limits.budget_usd) parts.push(`${formatUsd(limits.budget_usd)}/${limits.budget_period || 'month'}`);
  return parts.length ? parts.join(' · ') : 'No limits';
}

function modelsText(key) {
  const models = key && (key.models || key.allowed_models);
  return models && models.length ? models.join(', ') : 'All models';
}

export async function renderAdmin(container) {
  container.replaceChildren(el('p', { className: 'muted', textContent: 'Loading users…' }));
  const { data } = await api.adminUsers();
  const head = el('tr', {}, ['User', 'Role', 'Created', 'Key', 'Models', 'Limits', 'Requests', 'Tokens', 'Cost']
    .map((label) => el('th', { scope: 'col', textContent: label })));
  const rows = data.map((user) => {
    const usage = user.usage || {};
    const key = user.key || null;
    return el('tr', { className: user.disabled ? 'disabled' : '' }, [
      el('th', { scope: 'row', textContent: user.username }),
      el('td', {}, [el('span', {
        className: `badge ${user.is_admin ? 'admin' : 'plain'}`,
        textContent: user.disabled ? 'Disabled' : user.is_admin ? 'Admin' : 'User',
      })]),
      el('td', { textContent: formatDate(user.created_at) }),
      el('td', {}, [key ? el('code', { textContent: `${key.prefix}…` }) : document.createTextNode('—')]),
      el('td', { textContent: key ? modelsText(key) : '—' }),
      el('td', { textContent: key ? limitsText(key.limits) : '—' }),
      el('td', { className: 'number', textContent: formatNumber(usage.requests || 0) }),
      el('td', {
        className: 'number',
        textContent: formatNumber((usage.prompt_tokens || 0) + (usage.completion_tokens || 0)),
      }),
      el('td', { className: 'number', textContent: formatUsd(usage.cost_usd || 0) }),
    ]);
  });
  const table = el('table', { className: 'data-table admin-users', aria: { labelledby: 'users-title' } }, [
    el('thead', {}, [head]),
    el('tbody', {}, rows),
  ]);
  container.replaceChildren(
    el('h2', {
      className: 'section-title', id: 'users-title',
      textContent: `${data.length} user${data.length === 1 ? '' : 's'} · usage this month`,
    }),
    el('div', { className: 'table-wrap' }, [table]),
  );
}
