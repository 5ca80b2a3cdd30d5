// Schedules: next runs, last run and last error, and pause/resume (a PUT of the schedule as it is,
// with "paused" flipped: the API's only way to change a schedule).

import {allows, call, query, seg} from './api.js';
import {h, problemBox, replace, route, table, time} from './dom.js';

export async function render(main, {params, caller}) {
  const cursor = params.get('cursor') || '';
  const page = await call('GET', '/schedules' + query({cursor, limit: 100}));
  const message = h('div', {id: 'schedule-message'});
  const list = h('div', {id: 'schedule-list'});
  const toggle = async item => {
    try {
      const s = await call('GET', `/schedules/${seg(item.id)}`);
      const body = {workflow: s.workflow, cron: s.cron, timezone: s.timezone, input: s.input, paused: !s.paused};
      if (caller.admin && s.tenantId) body.tenantId = s.tenantId;
      const changed = await call('PUT', `/schedules/${seg(item.id)}`, body);
      // The row shows the schedule's own answer: the list's read model trails it by a moment.
      Object.assign(item, {paused: changed.paused, nextRunAt: changed.nextRunAt});
      replace(message, h('p', {class: 'notice', role: 'status'}, `${item.id}: ${changed.paused ? 'paused' : 'resumed'}.`));
      draw();
    } catch (e) {
      replace(message, problemBox(e));
    }
  };
  const draw = () => replace(list, table([
    ['Id', s => h('code', {}, s.id)],
    ['Workflow', s => s.workflow],
    ['Cron', s => h('span', {}, h('code', {}, s.cron), ' ', h('span', {class: 'muted'}, s.timezone))],
    ['Next run', s => s.paused ? h('span', {class: 'badge status-paused'}, 'paused') : time(s.nextRunAt)],
    ['Last run', s => s.lastRunWorkflowId
      ? h('span', {}, time(s.lastRunAt), ' ', h('a', {href: route(['workflows', s.lastRunWorkflowId])}, 'execution'))
      : h('span', {class: 'muted'}, 'never')],
    caller.admin ? ['Tenant', s => s.tenantId || h('span', {class: 'muted'}, '—')] : null,
    ['', s => h('span', {},
      allows(caller, 'manage')
        ? [h('button', {type: 'button', class: 'secondary', on: {click: () => toggle(s)}}, s.paused ? 'Resume' : 'Pause'), ' ']
        : null,
      h('button', {type: 'button', class: 'secondary', on: {click: () => showDetail(message, s.id)}}, 'Last error'))],
  ].filter(c => c), page.items, 'No schedules.'));
  draw();
  replace(main,
    h('h1', {}, 'Schedules'),
    message,
    list,
    h('div', {class: 'pager'},
      cursor ? h('a', {href: '#/schedules', class: 'button secondary'}, 'First page') : null,
      page.nextCursor ? h('a', {href: route(['schedules'], {cursor: page.nextCursor}), class: 'button'}, 'Next page') : null));
}

/** The list leaves out a failing tick's error; the schedule itself has it. */
async function showDetail(message, id) {
  try {
    const s = await call('GET', `/schedules/${seg(id)}`);
    replace(message, s.lastError
      ? h('div', {class: 'problem'}, h('strong', {}, id + ': '), s.lastError, ' (', s.failedStarts, ' failed starts; last ',
        time(s.lastErrorAt), '; next retry ', time(s.nextRetryAt), ')')
      : h('p', {class: 'notice'}, id + ': its last tick started normally.'));
  } catch (e) {
    replace(message, problemBox(e));
  }
}
