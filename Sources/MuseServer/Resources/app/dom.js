// Element construction used everywhere in the app. Text goes in through `textContent`
// (never HTML), so whatever a string holds, it stays text.

/** createElement with properties (className, textContent, type, …) and children. */
export function el(tag, properties = {}, children = []) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(properties)) {
    if (value === undefined || value === null) continue;
    if (key === 'dataset') Object.assign(element.dataset, value);
    else if (key === 'aria') {
      for (const [name, ariaValue] of Object.entries(value)) element.setAttribute(`aria-${name}`, ariaValue);
    } else if (key in element && key !== 'rel') element[key] = value;
    else element.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined) element.append(child);
  return element;
}

export function byId(id) {
  return document.getElementById(id);
}

/** Copies text: the async Clipboard API, else the older selection + execCommand route. */
export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Permission refused (or the document lost focus): fall through to the old way.
    }
  }
  const area = el('textarea', { value: text, readOnly: true, className: 'clipboard-helper' });
  document.body.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

/** Briefly swaps a button's label ("Copied") and restores it. */
export function flashLabel(button, label) {
  const original = button.dataset.label || button.textContent;
  button.dataset.label = original;
  button.textContent = label;
  setTimeout(() => {
    button.textContent = original;
  }, 1400);
}

export function formatNumber(value) {
  return value === null || value === undefined ? '—' : Number(value).toLocaleString('en-US');
}

export function formatUsd(value) {
  if (value === null || value === undefined) return '—';
  return `$${Number(value).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 4 })}`;
}

export function formatDate(unixSeconds) {
  if (!unixSeconds) return '—';
  return new Date(unixSeconds * 1000).toLocaleDateString('en-US', {
    year: 'numeric', month: 'short', day: 'numeric',
  });
}
