// Services: the registry's health at a glance (counts by status), a table filtered and paged by the
// node (type, status, metadata, search), so that it stays quick with thousands of services; and
// each service's page with its live heartbeat, metrics and, for the admin, its status history.

import {call, query, seg} from './api.js';
import {field, h, json, replace, route, select, statusBadge, table, time} from './dom.js';
import {metricHistory} from './charts.js';

const STATUSES = ['healthy', 'degraded', 'unhealthy', 'stale'];
const FILTERS = ['type', 'status', 'search', 'tenantId'];

export async function render(main, {params, caller, go}) {
  const filters = {};
  for (const name of FILTERS) filters[name] = params.get(name) || '';
  if (!caller.admin) filters.tenantId = '';
  const metadata = params.getAll('metadata');
  const cursor = params.get('cursor') || '';
  const [counts, page] = await Promise.all([
    call('GET', '/service-counts' + query({...filters, status: '', metadata})),
    call('GET', '/services' + query({...filters, metadata, cursor, limit: 100})),
  ]);
  const listHash = extra => {
    const hash = route(['services'], {...filters, ...extra});
    const more = metadata.map(m => 'metadata=' + encodeURIComponent(m)).join('&');
    return more ? hash + (hash.includes('?') ? '&' : '?') + more : hash;
  };
  replace(main,
    h('h1', {}, 'Services'),
    h('div', {class: 'counts', id: 'service-counts'},
      h('a', {href: listHash({status: '', cursor: ''}), class: filters.status ? '' : 'current'}, 'all ', h('b', {}, counts.total)),
      STATUSES.map(s => h('a', {href: listHash({status: s, cursor: ''}), class: filters.status === s ? 'current' : '', 'data-status': s},
        statusBadge(s), ' ', h('b', {}, counts.counts[s] || 0)))),
    filterForm(filters, metadata, caller, go),
    table([
      ['Id', s => h('a', {href: route(['services', s.id])}, s.id)],
      ['Name', s => s.name],
      ['Type', s => s.type],
      ['Status', s => statusBadge(s.status)],
      ['Since', s => time(s.statusSince)],
      ['Last heartbeat', s => time(s.lastHeartbeatAt)],
      ['Endpoint', s => s.endpoint ? h('code', {}, s.endpoint) : ''],
      ['Metadata', s => Object.entries(s.metadata || {}).map(([k, v]) => h('span', {class: 'tag'}, k + '=' + v))],
      caller.admin ? ['Tenant', s => s.tenantId || h('span', {class: 'muted'}, '—')] : null,
    ].filter(c => c), page.items, 'No services match these filters.'),
    h('div', {class: 'pager'},
      cursor ? h('a', {href: listHash({cursor: ''}), class: 'button secondary'}, 'First page') : null,
      page.nextCursor ? h('a', {href: listHash({cursor: page.nextCursor}), class: 'button'}, 'Next page') : null,
      h('button', {type: 'button', class: 'secondary', on: {click: () => go(location.hash)}}, 'Refresh')));
}

function filterForm(filters, metadata, caller, go) {
  const form = h('form', {class: 'filters', on: {submit: event => {
    event.preventDefault();
    const data = new FormData(form);
    const chosen = {};
    for (const name of FILTERS) chosen[name] = (data.get(name) || '').toString().trim();
    const hash = route(['services'], chosen);
    const pairs = (data.get('metadata') || '').toString().split(/\s+/).filter(p => p.includes('='));
    const more = pairs.map(m => 'metadata=' + encodeURIComponent(m)).join('&');
    go(more ? hash + (hash.includes('?') ? '&' : '?') + more : hash);
  }}},
  field('Search id or name', h('input', {name: 'search', value: filters.search, size: 18, spellcheck: 'false'})),
  field('Type', h('input', {name: 'type', value: filters.type, size: 10, placeholder: 'any'})),
  field('Status', select('status', [['', 'any'], ...STATUSES], filters.status)),
  field('Metadata (k=v, space-separated)', h('input', {name: 'metadata', value: metadata.join(' '), size: 22})),
  caller.admin ? field('Tenant', h('input', {name: 'tenantId', value: filters.tenantId, size: 14, placeholder: 'any'})) : null,
  h('button', {type: 'submit'}, 'Apply'),
  h('a', {href: '#/services', class: 'button secondary'}, 'Clear'));
  return form;
}

export const detail = {
  async render(main, {args, caller}) {
    const id = args[0];
    const service = await call('GET', `/services/${seg(id)}`);
    // Status changes are journaled; the journal is the admin's to read (audit).
    const history = caller.admin ? await call('GET', `/audit/service/${seg(id)}/events`) : null;
    replace(main,
      h('p', {}, h('a', {href: '#/services'}, '← Services')),
      h('h1', {}, 'Service ', h('code', {}, service.id), ' ', statusBadge(service.status)),
      h('dl', {class: 'facts'},
        fact('Name', service.name), fact('Type', service.type), fact('Endpoint', service.endpoint || '—'),
        fact('Status since', time(service.statusSince)), fact('Last heartbeat', time(service.lastHeartbeatAt)),
        fact('Next heartbeat before', time(service.nextHeartbeatBefore)), fact('TTL', service.ttlSeconds + ' s'),
        fact('Registered', time(service.registeredAt)), fact('Tenant', service.tenantId || '—')),
      h('h2', {}, 'Metrics (last heartbeat)'),
      table([['Metric', ([k]) => k], ['Value', ([, v]) => v]], Object.entries(service.metrics || {}), 'No metrics reported.'),
      metricHistory(service.id),
      h('h2', {}, 'Details'), json(service.details || {}),
      h('h2', {}, 'Metadata'), json(service.metadata || {}),
      history ? [h('h2', {}, 'Status history'), table([
        ['When', e => time(e.at)], ['Event', e => e.type],
        ['Status', e => e.data && e.data.status ? statusBadge(e.data.status) : ''],
      ], history.slice().reverse(), 'No journaled events.')] : null);
  },
};

function fact(label, ...value) {
  return [h('dt', {}, label), h('dd', {}, ...value)];
}
