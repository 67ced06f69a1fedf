// A small Markdown renderer that is safe by construction: it only ever creates elements from
// a fixed list with createElement and puts model text in with textContent, so raw HTML in a
// reply is shown as text and nothing the model writes can become markup or script.

import { el } from './dom.js';

const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

/** Renders Markdown `source` into a fresh DocumentFragment. */
export function renderMarkdown(source, options = {}) {
  const fragment = document.createDocumentFragment();
  renderBlocks(source.replace(/\r\n?/g, '\n').split('\n'), fragment, options);
  return fragment;
}

/** An href the app will link to, or null: absolute http(s) and mailto only. */
export function safeHref(raw) {
  let url;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  return SAFE_PROTOCOLS.has(url.protocol) ? url.href : null;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)[^\n]*$/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const RULE = /^ {0,3}([-*_])(\s*\1){2,}\s*$/;
const QUOTE = /^ {0,3}>\s?(.*)$/;
const LIST_ITEM = /^( *)([-*+]|\d{1,9}[.)])\s+(.*)$/;
const TABLE_SEPARATOR = /^\s*\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$/;

function renderBlocks(lines, parent, options) {
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.trim() === '') {
      i += 1;
      continue;
    }
    let match;
    if ((match = line.match(FENCE))) {
      const close = new RegExp(`^ {0,3}${match[1][0]}{${match[1].length},}\\s*$`);
      const body = [];
      i += 1;
      // While a reply streams the closing fence may not have arrived yet: the block runs
      // to the end, exactly as it will look once it is closed.
      while (i < lines.length && !close.test(lines[i])) body.push(lines[i++]);
      const closed = i < lines.length;
      i += 1;
      parent.append(codeBlock(body.join('\n'), match[2].toLowerCase(), closed, options));
    } else if ((match = line.match(HEADING))) {
      const heading = el(`h${Math.min(match[1].length + 1, 6)}`, { className: 'md-heading' });
      renderInline(match[2], heading);
      parent.append(heading);
      i += 1;
    } else if (RULE.test(line)) {
      parent.append(el('hr'));
      i += 1;
    } else if (QUOTE.test(line)) {
      const inner = [];
      while (i < lines.length && (match = lines[i].match(QUOTE))) {
        inner.push(match[1]);
        i += 1;
      }
      const quote = el('blockquote');
      renderBlocks(inner, quote, options);
      parent.append(quote);
    } else if (LIST_ITEM.test(line)) {
      i = renderList(lines, i, parent, options);
    } else if (line.includes('|') && i + 1 < lines.length && TABLE_SEPARATOR.test(lines[i + 1]) &&
               lines[i + 1].includes('-')) {
      i = renderTable(lines, i, parent);
    } else {
      const paragraph = [];
      while (i < lines.length && lines[i].trim() !== '' && !startsBlock(lines, i)) {
        paragraph.push(lines[i].trim());
        i += 1;
      }
      if (paragraph.length === 0) {
        paragraph.push(lines[i].trim());
        i += 1;
      }
      const p = el('p');
      paragraph.forEach((text, index) => {
        if (index > 0) p.append(el('br'));
        renderInline(text, p);
      });
      parent.append(p);
    }
  }
}

function startsBlock(lines, i) {
  const line = lines[i];
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) ||
    LIST_ITEM.test(line) ||
    (line.includes('|') && i + 1 < lines.length && TABLE_SEPARATOR.test(lines[i + 1]) &&
     lines[i + 1].includes('-'));
}

function renderList(lines, start, parent, options) {
  const first = lines[start].match(LIST_ITEM);
  const indent = first[1].length;
  const ordered = /\d/.test(first[2]);
  const list = el(ordered ? 'ol' : 'ul');
  if (ordered && parseInt(first[2], 10) !== 1) list.start = parseInt(first[2], 10);
  let i = start;
  while (i < lines.length) {
    const match = lines[i].match(LIST_ITEM);
    if (!match || match[1].length !== indent || /\d/.test(match[2]) !== ordered) break;
    const body = [match[3]];
    i += 1;
    // Lines indented past the marker (or a blank line followed by such) belong to the item.
    while (i < lines.length) {
      const next = lines[i];
      const indented = next.match(/^( *)/)[1].length > indent;
      if (next.trim() !== '' && indented) {
        body.push(next.slice(Math.min(next.match(/^( *)/)[1].length, indent + 4)));
        i += 1;
      } else if (next.trim() === '' && i + 1 < lines.length &&
                 lines[i + 1].match(/^( *)/)[1].length > indent && lines[i + 1].trim() !== '') {
        body.push('');
        i += 1;
      } else {
        break;
      }
    }
    const item = el('li');
    if (body.length === 1) {
      renderInline(body[0], item);
    } else {
      renderBlocks(body, item, options);
      // A tight item's single paragraph reads better without its margins.
      if (item.firstChild && item.firstChild.tagName === 'P') item.firstChild.classList.add('tight');
    }
    list.append(item);
    if (i < lines.length && lines[i].trim() === '' && i + 1 < lines.length &&
        (lines[i + 1].match(LIST_ITEM) || [])[1]?.length === indent) {
      i += 1; // A loose list: the blank line between items does not end it.
    }
  }
  parent.append(list);
  return i;
}

function splitRow(line) {
  let text = line.trim();
  if (text.startsWith('|')) text = text.slice(1);
  if (text.endsWith('|') && !text.endsWith('\\|')) text = text.slice(0, -1);
  return text.split(/(?<!\\)\|/).map((cell) => cell.trim().replace(/\\\|/g, '|'));
}

function renderTable(lines, start, parent) {
  const header = splitRow(lines[start]);
  const aligns = splitRow(lines[start + 1]).map((cell) => {
    if (cell.startsWith(':') && cell.endsWith(':')) return 'center';
    if (cell.endsWith(':')) return 'right';
    return cell.startsWith(':') ? 'left' : '';
  });
  const table = el('table');
  const headRow = el('tr');
  header.forEach((cell, column) => {
    const th = el('th', { scope: 'col' });
    if (aligns[column]) th.classList.add(`align-${aligns[column]}`);
    renderInline(cell, th);
    headRow.append(th);
  });
  table.append(el('thead', {}, [headRow]));
  const body = el('tbody');
  let i = start + 2;
  while (i < lines.length && lines[i].trim() !== '' && lines[i].includes('|')) {
    const row = el('tr');
    const cells = splitRow(lines[i]);
    for (let column = 0; column < header.length; column += 1) {
      const td = el('td');
      if (aligns[column]) td.classList.add(`align-${aligns[column]}`);
      renderInline(cells[column] ?? '', td);
      row.append(td);
    }
    body.append(row);
    i += 1;
  }
  table.append(body);
  parent.append(el('div', { className: 'table-wrap' }, [table]));
  return i;
}

/** The kind of artifact a fenced block holds, or null: a whole HTML document or an SVG. */
export function artifactKind(language, code) {
  const start = code.trimStart().slice(0, 64).toLowerCase();
  if (language === 'html' && (start.startsWith('<!doctype html') || start.startsWith('<html'))) {
    return 'html';
  }
  if ((language === 'svg' || language === 'xml') && start.startsWith('<svg')) return 'svg';
  return null;
}

function codeBlock(code, language, closed, options) {
  const figure = el('figure', { className: 'code-block' });
  const bar = el('div', { className: 'code-bar' });
  bar.append(el('span', { className: 'code-language', textContent: language || 'text' }));
  const actions = el('span', { className: 'code-actions' });
  const kind = closed ? artifactKind(language, code) : null;
  if (kind && options.onPreview) {
    const preview = el('button', {
      type: 'button', className: 'chip preview-button', textContent: 'Preview',
    });
    preview.addEventListener('click', () => options.onPreview(figure, code, kind, preview));
    actions.append(preview);
  }
  if (options.onCopy) {
    const copy = el('button', { type: 'button', className: 'chip copy-code', textContent: 'Copy' });
    copy.addEventListener('click', () => options.onCopy(code, copy));
    actions.append(copy);
  }
  bar.append(actions);
  const codeElement = el('code', { textContent: code });
  if (language) codeElement.dataset.language = language;
  figure.append(bar, el('pre', {}, [codeElement]));
  return figure;
}

// Inline spans, earliest match first. Code spans come first so nothing inside them is parsed.
const INLINE = [
  { kind: 'code', re: /(`+)([\s\S]+?)\1(?!`)/y },
  { kind: 'link', re: /\[([^\]\n]+)\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/y },
  { kind: 'autolink', re: /<((?:https?:\/\/|mailto:)[^\s<>]+)>/y },
  { kind: 'url', re: /https?:\/\/[^\s<>()[\]]*[^\s<>()[\].,;:!?'"*_~]/y },
  { kind: 'strong', re: /\*\*(?=\S)([\s\S]+?)\*\*|__(?=\S)([\s\S]+?)__(?!\w)/y },
  { kind: 'strike', re: /~~(?=\S)([\s\S]+?)~~/y },
  { kind: 'em', re: /\*(?=[^\s*])([^*]+?)\*|_(?=[^\s_])([^_]+?)_(?!\w)/y },
  { kind: 'escape', re: /\\([\\`*_{}[\]()#+\-.!|~<>])/y },
];
const INLINE_START = /[`[<h*_~\\]/g;

function renderInline(text, parent) {
  let plain = '';
  const flush = () => {
    if (plain) parent.append(document.createTextNode(plain));
    plain = '';
  };
  let i = 0;
  while (i < text.length) {
    INLINE_START.lastIndex = i;
    const next = INLINE_START.exec(text);
    if (!next) break;
    plain += text.slice(i, next.index);
    i = next.index;
    const span = matchInline(text, i);
    if (!span) {
      plain += text[i];
      i += 1;
      continue;
    }
    flush();
    parent.append(span.node);
    i = span.end;
  }
  plain += text.slice(i);
  flush();
}

function matchInline(text, at) {
  // `_` only opens emphasis at a word start (snake_case stays as written).
  if (text[at] === '_' && at > 0 && /\w/.test(text[at - 1])) return null;
  if (text[at] === 'h' && at > 0 && /\w/.test(text[at - 1])) return null;
  for (const { kind, re } of INLINE) {
    re.lastIndex = at;
    const match = re.exec(text);
    if (!match) continue;
    const end = re.lastIndex;
    switch (kind) {
      case 'code':
        return { node: el('code', { textContent: match[2].replace(/^ (.+) $/, '$1') }), end };
      case 'link': {
        const href = safeHref(match[2]);
        if (!href) return null; // Shown as the text the model wrote.
        const link = linkTo(href);
        renderInline(match[1], link);
        return { node: link, end };
      }
      case 'autolink':
      case 'url': {
        const href = safeHref(kind === 'url' ? match[0] : match[1]);
        if (!href) return null;
        const link = linkTo(href);
        link.textContent = kind === 'url' ? match[0] : match[1];
        return { node: link, end };
      }
      case 'strong':
      case 'strike':
      case 'em': {
        const tag = { strong: 'strong', strike: 'del', em: 'em' }[kind];
        const node = el(tag);
        renderInline(match[1] ?? match[2], node);
        return { node, end };
      }
      case 'escape':
        return { node: document.createTextNode(match[1]), end };
      default:
        return null;
    }
  }
  return null;
}

function linkTo(href) {
  return el('a', { href, target: '_blank', rel: 'noopener noreferrer' });
}
