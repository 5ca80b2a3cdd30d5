// One tenant: its facts, its custom domains (the TXT record to create, the verification state, a
// check now) and its named keys (list, create with the secret shown once, revoke). The admin
// reaches every tenant from the list; a tenant's admin key reaches its own as "Keys & domains".

import {allows, call, seg} from './api.js';
import {field, h, problemBox, replace, select, statusBadge, table, time} from './dom.js';

const ROLES = ['viewer', 'operator', 'admin'];

export async function render(main, {args, caller, go}) {
  const id = args[0];
  const [tenant, domains, keys] = await Promise.all([
    call('GET', `/tenants/${seg(id)}`),
    call('GET', `/tenants/${seg(id)}/domains`),
    allows(caller, 'manage') ? call('GET', `/tenants/${seg(id)}/keys`) : Promise.resolve(null),
  ]);
  const message = h('div', {id: 'tenant-message'});
  const refresh = () => go(location.hash);
  replace(main,
    caller.admin ? h('p', {}, h('a', {href: '#/tenants'}, '← Tenants')) : null,
    h('h1', {}, 'Tenant ', h('code', {}, tenant.slug || tenant.id), ' ', statusBadge(tenant.status)),
    h('dl', {class: 'facts'},
      fact('Id', h('code', {}, tenant.id)), fact('Name', tenant.name), fact('Plan', tenant.plan),
      fact('Default domain', tenant.defaultDomain || '—'), fact('Created', time(tenant.createdAt))),
    message,
    h('h2', {}, 'Custom domains'),
    h('div', {id: 'tenant-domains'}, table([
      ['Hostname', d => h('code', {}, d.hostname)],
      ['Status', d => statusBadge(d.status)],
      ['TXT record to create', d => d.verification
        ? h('span', {}, h('code', {}, d.verification.name), ' = ', h('code', {class: 'txt-value'}, d.verification.value))
        : ''],
      ['Last checked', d => time(d.lastCheckedAt)],
      ['Certificate', d => d.certificate ? d.certificate.status : ''],
      ['', d => d.status !== 'verified' && allows(caller, 'manage')
        ? h('button', {type: 'button', class: 'secondary', on: {click: async () => {
          try {
            const checked = await call('POST', `/tenants/${seg(id)}/domains/${seg(d.hostname)}/verify`);
            replace(message, h('p', {class: 'notice'}, `${d.hostname}: ${checked.status}.`));
            refresh();
          } catch (e) {
            replace(message, problemBox(e));
          }
        }}}, 'Check now')
        : ''],
    ], domains.items || [], 'No custom domains.')),
    keys ? keySection(id, keys, message) : null);
}

/**
 * The keys table and the form to create one. Changes redraw the table only, so that a new key's
 * secret, shown once in the message, stays on the page.
 */
function keySection(tenantId, keys, message) {
  const list = h('div', {id: 'tenant-keys'});
  const redraw = async () => drawKeys(list, tenantId, (await call('GET', `/tenants/${seg(tenantId)}/keys`)).items || [], message, redraw);
  const name = h('input', {name: 'name', required: true, size: 20, maxlength: 64, spellcheck: 'false'});
  const role = select('role', ROLES, 'viewer');
  const expires = h('input', {type: 'date', name: 'expires'});
  const form = h('form', {class: 'filters', id: 'key-form', on: {submit: async event => {
    event.preventDefault();
    const body = {name: name.value.trim(), role: role.value};
    if (expires.value) body.expiresAt = new Date(expires.value + 'T00:00:00Z').toISOString();
    try {
      const key = await call('POST', `/tenants/${seg(tenantId)}/keys`, body);
      // Shown once, in the page only: never in a URL, never stored by the console.
      replace(message, h('div', {class: 'notice', id: 'new-key'}, `Key ${key.name} (${key.role}) created. Copy its secret now, it is not shown again: `,
        h('input', {readonly: true, value: key.apiKey, size: 60, class: 'secret', id: 'new-key-secret'})));
      name.value = '';
      await redraw();
    } catch (e) {
      replace(message, problemBox(e));
    }
  }}},
  field('Name', name), field('Role', role), field('Expires (optional)', expires),
  h('button', {type: 'submit', id: 'create-key'}, 'Create key'));
  drawKeys(list, tenantId, keys.items || [], message, redraw);
  return [h('h2', {}, 'Named keys'), list, form];
}

function drawKeys(list, tenantId, keys, message, redraw) {
  replace(list, table([
      ['Name', k => k.name],
      ['Role', k => k.role],
      ['Status', k => statusBadge(k.status)],
      ['Expires', k => k.expiresAt ? time(k.expiresAt) : 'never'],
      ['Created', k => time(k.createdAt)],
      ['', k => k.status === 'active'
        ? h('button', {type: 'button', class: 'secondary danger', 'data-key': k.name, on: {click: async () => {
          if (!window.confirm(`Revoke key ${k.name}? It stops working at once, on every node.`)) return;
          try {
            await call('DELETE', `/tenants/${seg(tenantId)}/keys/${seg(k.id)}`);
            replace(message, h('p', {class: 'notice'}, `Key ${k.name} revoked.`));
            await redraw();
          } catch (e) {
            replace(message, problemBox(e));
          }
        }}}, 'Revoke')
        : ''],
  ], keys, 'No named keys.'));
}

function fact(label, ...value) {
  return [h('dt', {}, label), h('dd', {}, ...value)];
}
