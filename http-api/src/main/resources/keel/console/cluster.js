// The cluster (admin): its members and their status, shards and entities per member and entity
// type (GET /cluster), projection lag and dead letters, entity counts and this node's rates
// (GET /metrics), and a link to the Prometheus text. Refreshed every five seconds while shown.

import {call} from './api.js';
import {h, replace, statusBadge, table, time} from './dom.js';

const POLL_MILLIS = 5000;

export async function render(main) {
  const view = h('div', {id: 'cluster-view'});
  replace(main,
    h('h1', {}, 'Cluster'),
    h('p', {}, 'Live from the cluster, refreshed every 5 s. Every figure in Prometheus text format: ',
      h('a', {href: '/metrics', id: 'prometheus-link'}, '/metrics'), '.'),
    view);
  let stopped = false;
  let timer = null;
  const refresh = async () => {
    try {
      const [cluster, figures] = await Promise.all([call('GET', '/cluster'), call('GET', '/metrics')]);
      if (!stopped) draw(view, cluster, figures);
    } catch (e) {
      if (!stopped) view.prepend(h('p', {class: 'problem'}, 'Not updating: ' + e.message));
    }
    if (!stopped) timer = setTimeout(refresh, POLL_MILLIS);
  };
  await refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

function draw(view, cluster, figures) {
  const types = Object.keys(cluster.shards || {}).sort();
  replace(view,
    h('h2', {}, 'Members'),
    h('div', {id: 'cluster-members'}, table([
      ['Address', m => h('span', {}, h('code', {}, m.address),
        m.address === cluster.self ? h('span', {class: 'badge'}, 'this node') : null,
        m.address === cluster.leader ? h('span', {class: 'badge'}, 'leader') : null)],
      ['Status', m => statusBadge(String(m.status).toLowerCase())],
      ['Reachable', m => m.reachable ? 'yes' : h('span', {class: 'badge status-failed'}, 'unreachable')],
      ['Up since', m => time(m.upSince)],
      ...types.map(type => [type, m => shardCell(cluster, type, m.address)]),
    ], cluster.members || [], 'No members.')),
    (cluster.shardsUnknown || []).length
      ? h('p', {class: 'muted'}, 'No answer in time from the shard coordinators of: ', cluster.shardsUnknown.join(', '))
      : null,
    h('p', {class: 'muted'}, 'Each entity type\'s cell: live entities on that member, and in brackets the shards it holds.'),
    h('h2', {}, 'Projections'),
    h('div', {id: 'cluster-projections'}, table([
      ['Read model', ([name]) => h('code', {}, name)],
      ['Events behind', ([, lag]) => lag.eventsBehind],
      ['Lag', ([, lag]) => lag.lagMillis + ' ms'],
      ['Dead letters', ([, lag]) => lag.deadLetters > 0 ? h('span', {class: 'badge status-failed'}, lag.deadLetters) : 0],
    ], Object.entries(figures.projections || {}), 'No projections.')),
    h('h2', {}, 'Entities'),
    table([
      ['Type', ([type]) => type],
      ['By status', ([, byStatus]) => Object.entries(byStatus).map(([s, n]) => h('span', {class: 'tag'}, `${s} ${n}`))],
    ], Object.entries(figures.entities || {}), 'No entities.'),
    h('h2', {}, 'Rates on ', h('code', {}, figures.rates ? figures.rates.node : '—')),
    figures.rates ? h('p', {class: 'muted'}, `per second over the last ${figures.rates.windowSeconds} s, ${time(figures.at).textContent}`) : null,
    figures.rates ? table([['Figure', ([k]) => k], ['Per second', ([, v]) => Math.round(v * 100) / 100]],
      Object.entries(figures.rates).filter(([k]) => k !== 'node' && k !== 'windowSeconds')) : null);
}

function shardCell(cluster, type, address) {
  const entities = (cluster.shards[type] || {})[address];
  const shards = ((cluster.shardCounts || {})[type] || {})[address];
  if (entities === undefined && shards === undefined) return h('span', {class: 'muted'}, '—');
  return h('span', {}, entities === undefined ? '?' : entities, h('span', {class: 'muted'}, ` (${shards === undefined ? '?' : shards})`));
}
