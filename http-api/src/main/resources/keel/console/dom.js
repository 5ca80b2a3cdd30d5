// Every element of the console is built here, and every value reaches the page as a text node or an
// attribute set through the DOM, never as HTML: ids, names, errors and payloads are user input.

/**
 * An element: h('a', {href: '#/x', class: 'y', on: {click: fn}}, 'text', child, [more]).
 * Strings and numbers become text nodes; null, undefined and false are skipped.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'on') {
      for (const [event, handler] of Object.entries(value)) el.addEventListener(event, handler);
    } else if (key === 'href') {
      el.setAttribute('href', safeHref(value));
    } else if (key === 'value') {
      el.value = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Links stay inside the console (its own hash routes) or on this node: no javascript: or data: URLs. */
function safeHref(value) {
  const text = String(value);
  return text.startsWith('#/') || text.startsWith('/') ? text : '#/';
}

/** A console route with each path segment and query value encoded: ids may hold '@', '+' and ':'. */
export function route(segments, query) {
  const path = '#/' + segments.map(encodeURIComponent).join('/');
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== null && value !== undefined && value !== '') params.set(key, value);
  }
  const text = params.toString();
  return text ? path + '?' + text : path;
}

/** Replaces the children of {@code el}. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** An ISO-8601 instant as the viewer's local time, with the instant itself as its tooltip. */
export function time(iso) {
  if (!iso) return h('span', {class: 'muted'}, '—');
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return h('span', {}, iso);
  return h('time', {datetime: iso, title: iso}, at.toLocaleString());
}

/** A JSON value, pretty-printed in a pre block. */
export function json(value) {
  return h('pre', {class: 'json'}, value === undefined ? '' : JSON.stringify(value, null, 2));
}

export function statusBadge(status) {
  return h('span', {class: 'badge status-' + String(status).replace(/[^a-z_]/g, '')}, status);
}

/** A table: columns are [header, row => cell] pairs. */
export function table(columns, rows, emptyText) {
  if (rows.length === 0) return h('p', {class: 'empty'}, emptyText || 'Nothing to show.');
  return h('table', {class: 'grid'},
    h('thead', {}, h('tr', {}, columns.map(([header]) => h('th', {}, header)))),
    h('tbody', {}, rows.map(row => h('tr', {}, columns.map(([, cell]) => h('td', {}, cell(row)))))));
}

/** A problem document (or any error) as a message block: the detail and each bad field. */
export function problemBox(error) {
  const problem = error && error.problem;
  if (!problem) return h('div', {class: 'problem', role: 'alert'}, String(error && error.message || error));
  return h('div', {class: 'problem', role: 'alert'},
    h('strong', {}, `${problem.status || ''} ${problem.title || 'Error'}`.trim()),
    problem.detail ? h('span', {}, ': ' + problem.detail) : null,
    Array.isArray(problem.errors) && problem.errors.length
      ? h('ul', {}, problem.errors.map(e => h('li', {}, h('code', {}, e.field), ' ', e.message)))
      : null);
}

/** A labelled form field. */
export function field(label, input) {
  return h('label', {class: 'field'}, h('span', {}, label), input);
}

/** A select with {@code options} ([value, label] pairs or plain values) and {@code selected}. */
export function select(name, options, selected) {
  return h('select', {name},
    options.map(o => {
      const [value, label] = Array.isArray(o) ? o : [o, o];
      return h('option', {value, selected: value === (selected || '')}, label);
    }));
}
