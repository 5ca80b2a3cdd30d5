// Alerts: the rules and their conditions; each rule's page with what it is firing for and its
// newest firings with their delivery state and the workflow that delivers them.

import {call, query, seg} from './api.js';
import {h, replace, route, statusBadge, table, time} from './dom.js';

export async function render(main, {params, caller}) {
  const cursor = params.get('cursor') || '';
  const page = await call('GET', '/alerts' + query({cursor, limit: 100}));
  replace(main,
    h('h1', {}, 'Alert rules'),
    table([
      ['Id', a => h('a', {href: route(['alerts', a.id])}, a.id)],
      ['Service', a => h('code', {}, a.service)],
      ['Condition', a => h('code', {}, a.condition)],
      ['Cooldown', a => a.cooldownSeconds + ' s'],
      caller.admin ? ['Tenant', a => a.tenantId || h('span', {class: 'muted'}, '—')] : null,
    ].filter(c => c), page.items, 'No alert rules.'),
    h('div', {class: 'pager'},
      cursor ? h('a', {href: '#/alerts', class: 'button secondary'}, 'First page') : null,
      page.nextCursor ? h('a', {href: route(['alerts'], {cursor: page.nextCursor}), class: 'button'}, 'Next page') : null));
}

export const detail = {
  async render(main, {args}) {
    const rule = await call('GET', `/alerts/${seg(args[0])}`);
    replace(main,
      h('p', {}, h('a', {href: '#/alerts'}, '← Alert rules')),
      h('h1', {}, 'Alert rule ', h('code', {}, rule.id)),
      h('dl', {class: 'facts'},
        [h('dt', {}, 'Service'), h('dd', {}, h('code', {}, rule.service))],
        [h('dt', {}, 'Condition'), h('dd', {}, h('code', {}, rule.condition))],
        [h('dt', {}, 'Cooldown'), h('dd', {}, rule.cooldownSeconds + ' s')],
        [h('dt', {}, 'Webhook'), h('dd', {}, rule.webhook ? h('code', {}, rule.webhook) : h('span', {class: 'muted'}, 'none'))],
        [h('dt', {}, 'Repair'), h('dd', {}, rule.repair
          ? h('span', {}, 'starts ', h('code', {}, rule.repair.workflow), ' on each firing')
          : h('span', {class: 'muted'}, 'none'))],
        [h('dt', {}, 'Firing for'), h('dd', {}, (rule.triggered || []).length ? rule.triggered.join(', ') : 'nothing')],
        [h('dt', {}, 'Fired'), h('dd', {}, rule.firingCount + ' times; last ', time(rule.lastFiredAt))]),
      h('h2', {}, 'Newest firings'),
      table([
        ['#', f => f.seq],
        ['Service', f => h('a', {href: route(['services', f.service])}, f.service)],
        ['Status', f => statusBadge(f.status)],
        ['Fired', f => time(f.firedAt)],
        ['Delivery', f => f.delivery ? statusBadge(f.delivery) : ''],
        ['Delivery workflow', f => f.deliveryWorkflowId ? h('a', {href: route(['workflows', f.deliveryWorkflowId])}, f.deliveryWorkflowId) : ''],
        ['Repair', f => f.repair ? statusBadge(f.repair) : ''],
        ['Repair workflow', f => f.repairWorkflowId ? h('a', {href: route(['workflows', f.repairWorkflowId])}, f.repairWorkflowId) : ''],
      ], rule.firings || [], 'It has not fired.'));
  },
};
