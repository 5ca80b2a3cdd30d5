// One execution: its state, the work it waits on, its steps, its history as a timeline, and the
// actions the API offers. While it is not final the page polls the node every two seconds.

import {allows, call, seg} from './api.js';
import {field, h, json, problemBox, replace, route, select, statusBadge, table, time} from './dom.js';

const POLL_MILLIS = 2000;
const FINAL = ['completed', 'failed', 'cancelled'];
const PENDING = ['running', 'retrying', 'sleeping', 'waiting'];

/**
 * What an operator can do to an execution, one entry per API action: a button shown when
 * {@code when(execution)} holds and the caller's role allows it (a viewer sees none), an optional
 * form, and the request it sends. {@code then} may answer a console route to go to afterwards.
 */
const ACTIONS = [
  {
    name: 'cancel', label: 'Cancel', danger: true,
    when: e => !FINAL.includes(e.status),
    form: () => [field('Reason (optional)', h('input', {name: 'reason', size: 40, maxlength: 1000}))],
    confirm: e => `Cancel execution ${e.id}? It stops at its next step boundary and cannot be resumed.`,
    run: (id, data) => call('POST', `/workflows/${seg(id)}/cancel`, data.reason ? {reason: data.reason} : {}),
  },
  {
    name: 'pause', label: 'Pause',
    when: e => !FINAL.includes(e.status) && e.status !== 'paused',
    run: id => call('POST', `/workflows/${seg(id)}/pause`),
  },
  {
    name: 'resume', label: 'Resume',
    when: e => e.status === 'paused',
    run: id => call('POST', `/workflows/${seg(id)}/resume`),
  },
  {
    name: 'signal', label: 'Send signal',
    when: e => !FINAL.includes(e.status),
    form: e => [
      field('Signal name', h('input', {name: 'name', required: true, size: 24, spellcheck: 'false',
        value: (e.pendingSignals && e.pendingSignals[0]) || awaitedSignal(e) || ''})),
      field('Payload (JSON)', h('textarea', {name: 'payload', rows: 4, cols: 48, spellcheck: 'false'}, '{}')),
    ],
    run: (id, data) => {
      let payload;
      try {
        payload = JSON.parse(data.payload || 'null');
      } catch (e) {
        throw new Error('the payload is not valid JSON: ' + e.message);
      }
      return call('POST', `/workflows/${seg(id)}/signals/${seg(data.name)}`, payload);
    },
  },
  {
    name: 'retry', label: 'Retry',
    when: e => e.status === 'failed' || e.status === 'cancelled',
    form: () => [field('Reason (optional)', h('input', {name: 'reason', size: 40, maxlength: 1000}))],
    confirm: e => `Retry execution ${e.id} in place? The call it ended on runs again with the current code; `
      + 'the steps before it keep their recorded results and do not run again.',
    run: (id, data) => call('POST', `/workflows/${seg(id)}/retry`, data.reason ? {reason: data.reason} : {}),
  },
  {
    name: 'rerun', label: 'Rerun from a step',
    when: e => reachedSteps(e).length > 0,
    form: e => [
      field('From step', select('fromStep', reachedSteps(e), reachedSteps(e)[reachedSteps(e).length - 1])),
      field('New execution id (optional)', h('input', {name: 'id', size: 32, maxlength: 128, spellcheck: 'false'})),
    ],
    confirm: e => `Start a new execution of ${e.workflow} with the same input, the results of the steps before the `
      + 'chosen one copied, and the rest run by the current code?',
    run: (id, data) => call('POST', `/workflows/${seg(id)}/rerun`,
      data.id ? {fromStep: data.fromStep, id: data.id} : {fromStep: data.fromStep}),
    then: rerun => route(['workflows', rerun.id]),
  },
];

/** Names of the steps the execution reached, in order, each once: where a rerun may start. */
function reachedSteps(e) {
  const names = [];
  for (const s of e.steps || []) if (s.kind === 'step' && !names.includes(s.name)) names.push(s.name);
  return names;
}

export async function render(main, {args, caller, go}) {
  const id = args[0];
  const view = {
    summary: h('section', {id: 'execution-summary'}),
    actions: h('section', {class: 'actions', id: 'execution-actions'}),
    message: h('div', {id: 'action-message'}),
    pending: h('section', {id: 'pending-work'}),
    io: h('section', {class: 'io'}),
    steps: h('section', {id: 'steps'}),
    timeline: h('section', {id: 'timeline'}),
    live: h('span', {class: 'live', id: 'live-state'}),
  };
  replace(main,
    h('p', {}, h('a', {href: '#/workflows'}, '← Workflows')),
    h('h1', {}, 'Execution ', h('code', {id: 'execution-id'}, id), ' ', view.live),
    view.summary, view.actions, view.message, view.pending, view.io, view.steps, view.timeline);

  let stopped = false;
  let timer = null;
  let openAction = null;
  const refresh = async () => {
    const [execution, history] = await Promise.all([
      call('GET', `/workflows/${seg(id)}`),
      call('GET', `/workflows/${seg(id)}/history`),
    ]);
    if (stopped) return execution;
    draw(view, execution, history);
    // An open form keeps what the user typed: the buttons are redrawn only while none is open.
    if (!openAction) drawActions(view, execution, caller, action => (openAction = action), refreshSoon, refreshNow, go);
    return execution;
  };
  const schedule = execution => {
    if (stopped) return;
    const live = !FINAL.includes(execution.status);
    replace(view.live, live ? h('span', {class: 'badge live-on'}, 'live') : null);
    if (live) timer = setTimeout(poll, POLL_MILLIS);
  };
  const poll = async () => {
    try {
      schedule(await refresh());
    } catch (e) {
      if (!stopped) {
        replace(view.live, h('span', {class: 'badge status-failed'}, 'not updating'));
        timer = setTimeout(poll, POLL_MILLIS * 2);
      }
    }
  };
  const refreshNow = () => {
    clearTimeout(timer);
    poll();
  };
  const refreshSoon = () => {
    openAction = null;
    refreshNow();
  };
  schedule(await refresh());
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

function draw(view, e, history) {
  replace(view.summary, h('dl', {class: 'facts'},
    fact('Status', statusBadge(e.status), e.queued ? h('span', {class: 'badge'}, 'queued') : null),
    fact('Workflow', e.workflow, h('span', {class: 'muted'}, ' v' + e.version)),
    fact('Tenant', e.tenantId || h('span', {class: 'muted'}, '—')),
    fact('Created', time(e.createdAt)),
    fact('Updated', time(e.updatedAt)),
    fact('Completed', time(e.completedAt)),
    e.rerunOf ? fact('Rerun of', executionLink(e.rerunOf)) : null,
    (e.reruns || []).length ? fact('Reruns', e.reruns.map(id => [executionLink(id), ' '])) : null));
  const pending = (e.steps || []).filter(s => PENDING.includes(s.status));
  replace(view.pending, h('h2', {}, 'Pending work'),
    pending.length === 0 && !e.queued && !(e.pendingSignals || []).length
      ? h('p', {class: 'muted'}, FINAL.includes(e.status) ? 'None: the execution is ' + e.status + '.' : 'Nothing running right now.')
      : h('ul', {class: 'pending'},
        e.queued ? h('li', {}, 'Waiting for a free slot under the workflow\'s concurrency cap') : null,
        pending.map(s => h('li', {}, h('b', {}, s.name), ' ', statusBadge(s.status), ' ', describePending(s))),
        (e.pendingSignals || []).map(name => h('li', {}, 'Signal ', h('code', {}, name), ' received, not consumed yet'))));
  replace(view.io,
    h('div', {}, h('h2', {}, 'Input'), json(e.input)),
    h('div', {}, h('h2', {}, 'Output'), e.output === null ? h('p', {class: 'muted'}, 'None yet.') : json(e.output)),
    e.error ? h('div', {}, h('h2', {}, 'Error'), h('pre', {class: 'error-text', id: 'execution-error'}, e.error)) : null);
  replace(view.steps, h('h2', {}, 'Steps'), table([
    ['Name', s => h('b', {}, s.name)],
    ['Kind', s => s.kind],
    ['Status', s => statusBadge(s.status)],
    ['Attempts', s => s.attempts],
    ['Started', s => time(s.startedAt)],
    ['Completed', s => time(s.completedAt)],
    ['Due', s => time(s.dueAt)],
    ['Error', s => s.error ? h('pre', {class: 'error-text'}, s.error) : ''],
    ['Output', s => s.output === null ? '' : h('details', {}, h('summary', {}, 'output'), json(s.output))],
  ], e.steps || [], 'No step has run yet.'));
  replace(view.timeline, h('h2', {}, 'History'), h('ol', {class: 'timeline'},
    history.map(entry => h('li', {class: 'event event-' + kind(entry.type), 'data-type': entry.type},
      h('span', {class: 'seq'}, '#' + entry.seq),
      time(entry.at),
      h('span', {class: 'type'}, entry.type),
      h('span', {class: 'what'}, describeEvent(entry)),
      hasDetails(entry.data) ? h('details', {}, h('summary', {}, 'data'), json(entry.data)) : null))));
}

function drawActions(view, execution, caller, opened, done, refused, go) {
  const available = allows(caller, 'operate') ? ACTIONS.filter(a => a.when(execution)) : [];
  replace(view.actions, available.length === 0 ? null : [h('h2', {}, 'Actions'),
    available.map(action => h('button', {type: 'button', id: 'action-' + action.name,
      class: action.danger ? 'danger' : '', on: {click: () => {
        opened(action);
        openForm(view, execution, action, done, refused, go);
      }}}, action.label + '…'))]);
}

/**
 * The action's form and confirmation; the request is sent only on confirm. A refusal shows the
 * node's problem and refreshes the page (the execution may have changed meanwhile), form kept.
 */
function openForm(view, execution, action, done, refused, go) {
  const form = h('form', {class: 'action-form', id: 'form-' + action.name, on: {submit: async event => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form).entries());
    try {
      const answer = await action.run(execution.id, data);
      if (action.then) return go(action.then(answer));
      replace(view.message, h('p', {class: 'notice', role: 'status'}, `${action.label}: accepted.`));
      done();
    } catch (e) {
      replace(view.message, problemBox(e));
      refused();
    }
  }}},
  h('p', {}, action.confirm ? action.confirm(execution) : `${action.label} execution ${execution.id}?`),
  action.form ? action.form(execution) : null,
  h('button', {type: 'submit', id: 'confirm-' + action.name, class: action.danger ? 'danger' : ''}, 'Confirm: ' + action.label.toLowerCase()),
  h('button', {type: 'button', class: 'secondary', on: {click: () => {
    replace(view.message);
    done();
  }}}, 'Back'));
  replace(view.actions, h('h2', {}, action.label), form);
  replace(view.message);
}

function executionLink(id) {
  return h('a', {href: route(['workflows', id]), class: 'execution-link', 'data-id': id}, id);
}

function fact(label, ...value) {
  return [h('dt', {}, label), h('dd', {}, ...value)];
}

function awaitedSignal(e) {
  const waiting = (e.steps || []).find(s => s.kind === 'signal' && s.status === 'waiting');
  return waiting ? waiting.name : '';
}

function describePending(s) {
  const due = s.dueAt ? h('span', {}, ' until ', time(s.dueAt)) : null;
  switch (s.status) {
    case 'retrying': return h('span', {}, `attempt ${s.attempts} failed; next attempt at `, time(s.dueAt));
    case 'sleeping': return h('span', {}, 'timer fires at ', time(s.dueAt));
    case 'waiting': return h('span', {}, 'waiting for a signal', due);
    default: return h('span', {}, `attempt ${s.attempts || 1} running since `, time(s.startedAt));
  }
}

function kind(type) {
  if (/Failed|TimedOut|Cancelled/.test(type)) return 'bad';
  if (/Completed|Fired|Consumed|Received/.test(type)) return 'good';
  if (/Timer|Signal/.test(type)) return 'wait';
  return 'neutral';
}

/** One line saying what an event means, from the fields the journal holds. */
function describeEvent({type, data}) {
  const d = data || {};
  const name = d.name ? `'${d.name}'` : '';
  switch (type) {
    case 'StepStarted': return `step ${name} attempt ${d.attempt}`;
    case 'StepCompleted': return `step ${name} completed`;
    case 'StepFailed': return `step ${name} attempt ${d.attempt} failed: ${d.error || ''}` + (d.retryAt ? `; retry at ${d.retryAt}` : '');
    case 'TimerStarted': return `timer ${name} until ${d.wakeAt}`;
    case 'TimerFired': return `timer ${name} fired`;
    case 'SignalAwaited': return `waits for signal ${name}` + (d.timeoutAt ? ` until ${d.timeoutAt}` : '');
    case 'SignalReceived': return `signal ${name} received`;
    case 'SignalConsumed': return `signal ${name} consumed`;
    case 'SignalTimedOut': return `signal ${name} timed out`;
    case 'WorkflowFailed': return d.error || '';
    case 'WorkflowCancelled': return d.reason ? `reason: ${d.reason}` : '';
    default: return '';
  }
}

function hasDetails(data) {
  return data && typeof data === 'object' && Object.keys(data).length > 0;
}
