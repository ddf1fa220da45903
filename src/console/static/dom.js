// Small DOM helpers: element building without innerHTML (text is always text), time formatting.

/**
 * h('div', { class: 'card', onclick: fn }, child, 'text', …)
 * @param {string} tag
 * @param {Record<string, any> | null} [attrs]
 * @param {...(Node | string | number | null | undefined | false | (Node | string)[])} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(el.dataset, value);
    // Through CSSOM: the page's CSP refuses style attributes.
    else if (name === 'css') Object.assign(el.style, value);
    else if (name in el && typeof value !== 'string') /** @type {any} */ (el)[name] = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** 83.4 → "1:23.4" */
export function formatTime(seconds) {
  if (!Number.isFinite(seconds)) return '–';
  const sign = seconds < 0 ? '-' : '';
  const abs = Math.abs(seconds);
  const h = Math.floor(abs / 3600);
  const m = Math.floor((abs % 3600) / 60);
  const s = (abs % 60).toFixed(1).padStart(4, '0');
  return h ? `${sign}${h}:${String(m).padStart(2, '0')}:${s}` : `${sign}${m}:${s}`;
}

/** "1:23.4", "83.4" or "1:02:03" → seconds; null when empty; NaN when unreadable. */
export function parseTime(text) {
  const value = String(text ?? '').trim();
  if (value === '') return null;
  if (!/^\d+(?::\d+){0,2}(?:\.\d+)?$/.test(value)) return Number.NaN;
  return value.split(':').reduce((total, part) => total * 60 + Number(part), 0);
}

/**
 * The server's snippet marks query terms with <em>…</em>; everything else is text. Builds the
 * nodes without ever parsing the snippet as HTML.
 */
export function snippetNodes(snippet) {
  const nodes = [];
  const parts = String(snippet).split(/(<em>|<\/em>)/);
  let inMark = false;
  for (const part of parts) {
    if (part === '<em>') inMark = true;
    else if (part === '</em>') inMark = false;
    else if (part) nodes.push(inMark ? h('mark', null, part) : part);
  }
  return nodes;
}

/** "Series S1E2 · Title" */
export function videoLabel(video) {
  const episode = video.season != null || video.episode != null ? ` S${video.season ?? '?'}E${video.episode ?? '?'}` : '';
  const series = video.series ? `${video.series}${episode}` : episode.trim();
  const title = video.title ?? video.id;
  return series ? `${series} · ${title}` : title;
}

export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
