// Tenants (admin only): plan and status, suspend, reactivate, and a new API key shown once.

import {call, query, seg} from './api.js';
import {h, problemBox, replace, route, statusBadge, table, time} from './dom.js';

export async function render(main, {params, caller, go}) {
  if (!caller.admin) {
    replace(main, h('p', {class: 'problem'}, 'Only the admin token sees tenants.'));
    return;
  }
  const cursor = params.get('cursor') || '';
  const page = await call('GET', '/tenants' + query({cursor, limit: 100}));
  const message = h('div', {id: 'tenant-message'});
  const act = async (what, tenant) => {
    try {
      if (what === 'suspend') await call('POST', `/tenants/${seg(tenant.id)}/suspend`, {reason: 'suspended from the console'});
      if (what === 'reactivate') await call('POST', `/tenants/${seg(tenant.id)}/reactivate`);
      if (what === 'rotate') {
        const key = await call('POST', `/tenants/${seg(tenant.id)}/api-keys`);
        // Shown once, in the page only: copy it now; it is never in a URL or stored by the console.
        replace(message, h('div', {class: 'notice'}, 'New API key for ', h('code', {}, tenant.id), ' (the old one stopped working): ',
          h('input', {readonly: true, value: key.apiKey, size: 60, class: 'secret'})));
        return;
      }
      go(location.hash);
    } catch (e) {
      replace(message, problemBox(e));
    }
  };
  replace(main,
    h('h1', {}, 'Tenants'),
    message,
    table([
      ['Id', t => h('a', {href: route(['tenants', t.id]), class: 'tenant-link'}, h('code', {}, t.id))],
      ['Slug', t => t.slug],
      ['Name', t => t.name],
      ['Plan', t => t.plan],
      ['Status', t => statusBadge(t.status)],
      ['Domain', t => t.defaultDomain || ''],
      ['Created', t => time(t.createdAt)],
      ['', t => h('span', {},
        t.status === 'active' ? button('Suspend', () => act('suspend', t)) : null,
        t.status === 'suspended' ? button('Reactivate', () => act('reactivate', t)) : null,
        ['active', 'suspended'].includes(t.status) ? button('Rotate key', () => act('rotate', t)) : null,
        h('a', {href: route(['workflows'], {tenantId: t.id}), class: 'button secondary'}, 'Workflows'))],
    ], page.items, 'No tenants.'),
    h('div', {class: 'pager'},
      cursor ? h('a', {href: '#/tenants', class: 'button secondary'}, 'First page') : null,
      page.nextCursor ? h('a', {href: route(['tenants'], {cursor: page.nextCursor}), class: 'button'}, 'Next page') : null));
}

function button(label, onClick) {
  return h('button', {type: 'button', class: 'secondary', on: {click: onClick}}, label);
}
