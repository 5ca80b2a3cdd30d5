// A service's metric history as charts: GET /services/{id}/metrics, one chart per metric with the
// mean as a line and the min-max band of each step around it, drawn by uPlot (served from its
// WebJar under /ui/vendor/). Each chart's element says what it shows (data-metric, data-points), so
// that tests and screen readers need not read the canvas.

import uPlot from './vendor/uplot.js';
import {call, query, seg} from './api.js';
import {h, replace, select, table} from './dom.js';

const RANGES = [['PT1H', 'last hour'], ['PT6H', 'last 6 hours'], ['P1D', 'last day'], ['P7D', 'last week']];
const RANGE_SECONDS = {PT1H: 3600, PT6H: 6 * 3600, P1D: 86400, P7D: 7 * 86400};
const WIDTH = 560;
const HEIGHT = 180;

/** A section with a range chooser and the charts; answers it at once and draws when the data comes. */
export function metricHistory(serviceId) {
  const charts = h('div', {class: 'charts', id: 'metric-charts'}, h('p', {class: 'muted'}, 'Loading…'));
  const range = select('since', RANGES, 'PT1H');
  range.id = 'metric-range';
  const load = async () => {
    try {
      const history = await call('GET', `/services/${seg(serviceId)}/metrics` + query({since: range.value}));
      draw(charts, history, RANGE_SECONDS[range.value]);
    } catch (e) {
      replace(charts, h('p', {class: 'problem'}, 'The metric history is not available: ' + e.message));
    }
  };
  range.addEventListener('change', load);
  load();
  return h('section', {id: 'metric-history'},
    h('h2', {}, 'Metrics over time ', range),
    charts);
}

function draw(charts, history, seconds) {
  // The whole range on the x axis, whatever the points cover: a new service's one point is not
  // stretched over years.
  const to = Date.now() / 1000;
  const from = to - seconds;
  const metrics = (history.metrics || []).filter(m => m.points && m.points.length > 0);
  if (metrics.length === 0) {
    replace(charts, h('p', {class: 'muted'}, 'No metric points in this range: heartbeats carry the metrics that are kept.'));
    return;
  }
  replace(charts, h('p', {class: 'muted chart-note'}, `One point per ${short(history.step)}, from the ${short(history.resolution)} tier.`));
  for (const metric of metrics) {
    const box = h('figure', {class: 'chart', 'data-metric': metric.name, 'data-points': metric.points.length},
      h('figcaption', {}, metric.name, ' ', h('span', {class: 'muted'}, `last ${format(metric.points[metric.points.length - 1].last)}`)));
    charts.appendChild(box);
    const times = metric.points.map(p => Date.parse(p.time) / 1000);
    new uPlot({
      width: WIDTH,
      height: HEIGHT,
      scales: {x: {time: true, range: () => [from, to]}},
      series: [
        {},
        {label: 'min', stroke: '#9bb3cc', width: 1},
        {label: 'mean', stroke: '#2f5d8a', width: 2},
        {label: 'max', stroke: '#9bb3cc', width: 1},
      ],
      bands: [{series: [3, 1], fill: 'rgba(47, 93, 138, 0.12)'}],
    }, [times, metric.points.map(p => p.min), metric.points.map(p => p.mean), metric.points.map(p => p.max)], box);
    // The numbers too, for a screen reader and for copying.
    box.appendChild(h('details', {}, h('summary', {}, 'points'), table([
      ['Time', p => p.time], ['Min', p => format(p.min)], ['Mean', p => format(p.mean)], ['Max', p => format(p.max)], ['Last', p => format(p.last)],
    ], metric.points.slice(-20).reverse())));
  }
}

/** An ISO-8601 duration as the console writes it: PT10S → 10s, PT1M → 1m, P1D → 1d. */
function short(duration) {
  return String(duration || '').replace(/^PT?/, '').toLowerCase() || '—';
}

function format(value) {
  if (typeof value !== 'number') return String(value);
  return Math.abs(value) >= 1000 || Number.isInteger(value) ? String(Math.round(value * 100) / 100) : value.toPrecision(4);
}
