// Workflows: the list with its filters, counts by status and cursor paging. Filters live in the
// URL's hash, so a filtered list can be bookmarked or shared (it never holds the credential).

import {allows, call, query} from './api.js';
import {field, h, problemBox, replace, route, select, statusBadge, table, time} from './dom.js';

const STATUSES = ['running', 'sleeping', 'waiting', 'paused', 'completed', 'failed', 'cancelled'];
const FILTERS = ['status', 'workflow', 'tenantId', 'from', 'to', 'idPrefix'];

/** The bulk actions that apply to executions of each status (POST /workflows/bulk/{action}). */
const BULK = {
  running: ['pause', 'cancel'],
  sleeping: ['pause', 'cancel'],
  waiting: ['pause', 'cancel'],
  paused: ['resume', 'cancel'],
  failed: ['retry'],
  cancelled: ['retry'],
  completed: [],
};

export async function render(main, {params, caller, go}) {
  const filters = {};
  for (const name of FILTERS) filters[name] = params.get(name) || '';
  if (!caller.admin) filters.tenantId = '';
  const cursor = params.get('cursor') || '';
  const pageSize = params.get('limit') || '50';
  const [definitions, counts, page] = await Promise.all([
    call('GET', '/workflow-definitions'),
    call('GET', '/workflow-counts' + query({...filters, status: ''})),
    call('GET', '/workflows' + query({...filters, cursor, limit: pageSize})),
  ]);
  const listHash = extra => route(['workflows'], {...filters, limit: pageSize === '50' ? '' : pageSize, ...extra});
  replace(main,
    h('h1', {}, 'Workflows'),
    filterForm(filters, definitions.items.map(d => d.name), caller, pageSize, go),
    countBar(counts, filters, listHash),
    allows(caller, 'operate') ? bulkBar(filters, counts, go) : null,
    h('div', {id: 'workflow-list'}, table([
      ['Id', w => h('a', {href: route(['workflows', w.id]), class: 'execution-link', 'data-id': w.id}, w.id)],
      ['Workflow', w => h('span', {}, w.workflow, h('span', {class: 'muted'}, ' v' + w.version))],
      ['Status', w => statusBadge(w.status)],
      caller.admin ? ['Tenant', w => w.tenantId || h('span', {class: 'muted'}, '—')] : null,
      ['Created', w => time(w.createdAt)],
      ['Updated', w => time(w.updatedAt)],
    ].filter(c => c), page.items, 'No executions match these filters.')),
    pager(page, cursor, listHash, go));
}

function filterForm(filters, workflowNames, caller, pageSize, go) {
  const form = h('form', {class: 'filters', id: 'workflow-filters', on: {submit: event => {
    event.preventDefault();
    const data = new FormData(form);
    const chosen = {};
    for (const name of FILTERS) chosen[name] = (data.get(name) || '').toString().trim();
    chosen.from = isoFromLocal(chosen.from);
    chosen.to = isoFromLocal(chosen.to);
    go(route(['workflows'], {...chosen, limit: data.get('limit') === '50' ? '' : data.get('limit')}));
  }}},
  field('Status', select('status', [['', 'any'], ...STATUSES], filters.status)),
  field('Workflow', select('workflow', [['', 'any'], ...workflowNames], filters.workflow)),
  caller.admin ? field('Tenant', h('input', {name: 'tenantId', value: filters.tenantId, placeholder: 'any', size: 14})) : null,
  field('Created from', h('input', {type: 'datetime-local', name: 'from', value: localFromIso(filters.from), step: 1})),
  field('to', h('input', {type: 'datetime-local', name: 'to', value: localFromIso(filters.to), step: 1})),
  field('Id starts with', h('input', {name: 'idPrefix', value: filters.idPrefix, size: 16, spellcheck: 'false'})),
  field('Per page', select('limit', ['20', '50', '100', '500'], pageSize)),
  h('button', {type: 'submit'}, 'Apply'),
  h('a', {href: '#/workflows', class: 'button secondary'}, 'Clear'));
  return form;
}

/** Counts by status under the other filters; each one narrows the list to that status. */
function countBar(counts, filters, listHash) {
  return h('div', {class: 'counts', id: 'workflow-counts'},
    h('a', {href: listHash({status: ''}), class: filters.status ? '' : 'current'}, 'all ', h('b', {}, counts.total)),
    STATUSES.map(s => h('a', {href: listHash({status: s}), class: filters.status === s ? 'current' : '', 'data-status': s},
      statusBadge(s), ' ', h('b', {}, counts.counts[s] || 0))));
}

/**
 * Bulk actions on the filtered list. They need a status filter, so that the count the confirmation
 * shows is exactly the executions the action applies to; the id prefix is not a bulk filter.
 */
function bulkBar(filters, counts, go) {
  const bar = h('section', {class: 'bulk', id: 'bulk-actions'});
  const message = h('div', {id: 'bulk-message'});
  const buttons = () => {
    if (filters.idPrefix) return h('p', {class: 'muted'}, 'Bulk actions filter by status, workflow, tenant and time, not by id: clear "Id starts with" to use them.');
    if (!filters.status) return h('p', {class: 'muted'}, 'Choose a status to act on the listed executions in bulk.');
    const actions = BULK[filters.status] || [];
    if (actions.length === 0) return null;
    return h('span', {}, 'In bulk: ', actions.map(action => [h('button', {type: 'button', class: action === 'cancel' ? 'secondary danger' : 'secondary',
      id: 'bulk-' + action, on: {click: () => confirm(action)}}, `${label(action)} all ${counts.counts[filters.status] || 0}…`), ' ']));
  };
  const confirm = action => {
    const n = counts.counts[filters.status] || 0;
    const reason = h('input', {name: 'reason', size: 40, maxlength: 1000});
    const form = h('form', {class: 'action-form', id: 'bulk-form', on: {submit: async event => {
      event.preventDefault();
      try {
        const operation = await call('POST', '/workflows/bulk/' + action, {filter: bulkFilter(filters),
          reason: reason.value.trim() || undefined});
        go(route(['workflows', operation.id]));
      } catch (e) {
        replace(message, problemBox(e));
      }
    }}},
    h('p', {id: 'bulk-confirmation'}, `${label(action)} ${n} ${n === 1 ? 'execution' : 'executions'} (${describe(filters)})? `
      + 'The operation runs as a workflows-bulk execution of its own: its page shows its progress.'),
    field('Reason (optional)', reason),
    h('button', {type: 'submit', id: 'confirm-bulk', class: action === 'cancel' ? 'danger' : ''}, `Confirm: ${action} ${n}`),
    h('button', {type: 'button', class: 'secondary', on: {click: () => replace(bar, buttons(), message)}}, 'Back'));
    replace(bar, form, message);
  };
  return replace(bar, buttons(), message);
}

function bulkFilter(filters) {
  const filter = {status: filters.status};
  if (filters.workflow) filter.workflow = filters.workflow;
  if (filters.tenantId) filter.tenantId = filters.tenantId;
  if (filters.from) filter.createdAfter = filters.from;
  if (filters.to) filter.createdBefore = filters.to;
  return filter;
}

function describe(filters) {
  const parts = [`status ${filters.status}`];
  if (filters.workflow) parts.push(`workflow ${filters.workflow}`);
  if (filters.tenantId) parts.push(`tenant ${filters.tenantId}`);
  if (filters.from) parts.push(`created from ${filters.from}`);
  if (filters.to) parts.push(`created before ${filters.to}`);
  return parts.join(', ');
}

function label(action) {
  return action.charAt(0).toUpperCase() + action.slice(1);
}

function pager(page, cursor, listHash, go) {
  return h('div', {class: 'pager'},
    cursor ? h('a', {href: listHash({cursor: ''}), class: 'button secondary'}, 'First page') : null,
    page.nextCursor ? h('a', {href: listHash({cursor: page.nextCursor}), class: 'button', id: 'next-page'}, 'Next page') : null,
    h('button', {type: 'button', class: 'secondary', on: {click: () => go(location.hash)}}, 'Refresh'));
}

/** A datetime-local value (the viewer's time) as an ISO-8601 instant; '' stays ''. */
function isoFromLocal(value) {
  if (!value) return '';
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? '' : at.toISOString();
}

function localFromIso(iso) {
  if (!iso) return '';
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return '';
  const local = new Date(at.getTime() - at.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 19);
}
