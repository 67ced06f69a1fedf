// The usage panel: this period's tokens, requests and cost, and what the limits leave.

import { api } from './api.js';
import { el, formatDate, formatNumber, formatUsd } from './dom.js';

function stat(label, value, note) {
  return el('div', { className: 'stat' }, [
    el('div', { className: 'stat-label', textContent: label }),
    el('div', { className: 'stat-value', textContent: value }),
    note ? el('div', { className: 'stat-note', textContent: note }) : null,
  ]);
}

function limitRow(label, value) {
  return el('tr', {}, [el('th', { scope: 'row', textContent: label }), el('td', { textContent: value })]);
}

export async function renderUsage(container) {
  container.replaceChildren(el('p', { className: 'muted', textContent: 'Loading usage…' }));
  const usage = await api.usage();
  const limits = usage.limits || {};
  const unlimited = 'Unlimited';
  const period = usage.period || limits.budget_period || 'month';
  const tokens = (usage.prompt_tokens || 0) + (usage.completion_tokens || 0);
  const cards = el('div', { className: 'stats' }, [
    stat('Tokens', formatNumber(tokens),
      `${formatNumber(usage.prompt_tokens)} prompt · ${formatNumber(usage.completion_tokens)} completion`),
    stat('Requests', formatNumber(usage.requests)),
    stat('Cost', formatUsd(usage.cost_usd)),
    stat('Tokens left', limits.remaining_tokens === null || limits.remaining_tokens === undefined
      ? unlimited : formatNumber(limits.remaining_tokens),
    limits.remaining_usd === null || limits.remaining_usd === undefined
      ? null : `${formatUsd(limits.remaining_usd)} of budget left`),
  ]);
  const show = (value, unit) => (value === null || value === undefined ? unlimited : `${formatNumber(value)}${unit}`);
  const table = el('table', { className: 'data-table limits', aria: { labelledby: 'limits-title' } }, [
    el('tbody', {}, [
      limitRow('Requests per minute', show(limits.requests_per_minute, '')),
      limitRow('Tokens per minute', show(limits.tokens_per_minute, '')),
      limitRow(`Token budget per ${limits.budget_period || period}`, show(limits.budget_tokens, '')),
      limitRow(`Spending budget per ${limits.budget_period || period}`,
        limits.budget_usd === null || limits.budget_usd === undefined ? unlimited : formatUsd(limits.budget_usd)),
    ]),
  ]);
  container.replaceChildren(
    el('p', { className: 'muted', textContent: `This ${period}, since ${formatDate(usage.since)}.` }),
    cards,
    el('h2', { className: 'section-title', id: 'limits-title', textContent: 'Limits' }),
    el('div', { className: 'table-wrap' }, [table]),
  );
}
