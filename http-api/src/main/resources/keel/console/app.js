// The console's shell: sign-in, sign-out, the navigation and a router over the URL's hash
// (#/workflows, #/workflows/<id>, ...). Each screen is a module whose render(main, view) draws into
// <main> and may answer a function that stops what it started (polling) when the screen is left.

import {ApiError, call, session, whenUnauthorized} from './api.js';
import {field, h, problemBox, replace} from './dom.js';
import * as workflows from './workflows.js';
import * as execution from './execution.js';
import * as services from './services.js';
import * as schedules from './schedules.js';
import * as alerts from './alerts.js';
import * as tenants from './tenants.js';
import * as tenant from './tenant.js';
import * as cluster from './cluster.js';

const ROUTES = [
  ['workflows', 1, execution],
  ['workflows', 0, workflows],
  ['services', 1, services.detail],
  ['services', 0, services],
  ['schedules', 0, schedules],
  ['alerts', 1, alerts.detail],
  ['alerts', 0, alerts],
  ['tenants', 1, tenant],
  ['tenants', 0, tenants],
  ['cluster', 0, cluster],
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
const signOutButton = document.getElementById('sign-out');
let caller = null;
let leave = null;

function parseHash() {
  const hash = location.hash.startsWith('#/') ? location.hash.slice(2) : 'workflows';
  const [path, search] = hash.split('?', 2);
  const segments = path.split('/').filter(s => s).map(s => {
    try {
      return decodeURIComponent(s);
    } catch (e) {
      return s;
    }
  });
  return {section: segments[0] || 'workflows', args: segments.slice(1), params: new URLSearchParams(search || '')};
}

async function render() {
  if (leave) {
    leave();
    leave = null;
  }
  if (!session.token()) return signInScreen();
  if (!caller && !(await identify())) return;
  showChrome();
  const {section, args, params} = parseHash();
  const found = ROUTES.find(([name, arity]) => name === section && arity === Math.min(args.length, 1));
  for (const link of nav.querySelectorAll('a')) link.classList.toggle('current', link.dataset.section === section);
  if (!found) {
    replace(main, h('p', {class: 'problem'}, 'No such screen. '), h('a', {href: '#/workflows'}, 'Workflows'));
    return;
  }
  replace(main, h('p', {class: 'muted'}, 'Loading…'));
  try {
    const stop = await found[2].render(main, {args, params, caller, go});
    if (typeof stop === 'function') leave = stop;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;
    replace(main, problemBox(e));
  }
}

/** Asks the node whom the credential stands for; a refused one is dropped and the sign-in shown again. */
async function identify() {
  try {
    caller = await call('GET', '/caller');
    return true;
  } catch (e) {
    session.signOut();
    signInScreen(e);
    return false;
  }
}

/** Navigates to {@code hash}; re-renders also when it is the current one (a refresh). */
function go(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

function showChrome() {
  nav.hidden = false;
  signOutButton.hidden = false;
  for (const link of nav.querySelectorAll('[data-admin-only]')) link.hidden = !caller.admin;
  // A tenant's key: its own tenant's page (domains; keys for its admin keys).
  const own = document.getElementById('own-tenant');
  own.hidden = !caller.tenantId;
  if (caller.tenantId) own.setAttribute('href', '#/tenants/' + encodeURIComponent(caller.tenantId));
  replace(who, caller.admin ? 'admin' : h('span', {}, 'tenant ', h('code', {}, caller.tenantId)));
}

function signInScreen(error) {
  caller = null;
  nav.hidden = true;
  signOutButton.hidden = true;
  replace(who);
  const input = h('input', {type: 'password', name: 'credential', id: 'credential', autocomplete: 'off', required: true,
    spellcheck: 'false', size: 48});
  const form = h('form', {class: 'sign-in', on: {submit: async event => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    session.signIn(token);
    input.value = '';
    if (await identify()) render();
  }}},
  h('h1', {}, 'Sign in to Keel'),
  h('p', {}, 'Use the admin token or a tenant\'s API key. It is kept in this browser tab only, until you sign out or close the tab.'),
  error ? problemBox(error) : null,
  field('Token or API key', input),
  h('button', {type: 'submit', id: 'sign-in'}, 'Sign in'));
  replace(main, form);
  input.focus();
}

signOutButton.addEventListener('click', () => {
  session.signOut();
  caller = null;
  if (leave) {
    leave();
    leave = null;
  }
  location.hash = '#/workflows';
  signInScreen();
});

whenUnauthorized(() => {
  session.signOut();
  if (leave) {
    leave();
    leave = null;
  }
  signInScreen(new ApiError(401, {status: 401, title: 'Unauthorized',
    detail: 'the node no longer accepts this credential; sign in again'}));
});

window.addEventListener('hashchange', render);
render();
