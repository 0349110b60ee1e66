// The web console's script (plain JavaScript, no framework), shipped inside the program. It builds
// every piece of data into the page with textContent, never with innerHTML, so queue names and
// message bodies cannot become markup. console_pages.hpp holds the pages and the style sheet.
#pragma once

namespace actormq::actors::pages {

inline const char* console_js = R"JS(
'use strict';
// ActorMQ console. Every value from the node is put into the page with textContent (never
// innerHTML), so names and bodies stay text.
(function () {
  const REFRESH_MS = 2000;
  const page = document.body.dataset.page;

  function el(tag, props, children) {
    const e = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (k === 'text') e.textContent = v;
        else if (k === 'className') e.className = v;
        else if (k === 'onclick') e.addEventListener('click', v);
        else e.setAttribute(k, v);
      }
    }
    for (const c of children || []) e.appendChild(c);
    return e;
  }

  function setStatus(text, isError) {
    const s = document.getElementById('status');
    s.textContent = text;
    s.classList.toggle('error', !!isError);
  }

  function showMessage(text, isError) {
    let m = document.getElementById('message');
    if (!m) {
      m = el('p', { id: 'message', role: 'alert' });
      document.querySelector('main').prepend(m);
    }
    m.className = isError ? 'message error' : 'message';
    m.textContent = text;
  }

  async function api(path, options) {
    const opts = Object.assign({ headers: {}, credentials: 'same-origin', cache: 'no-store' },
                               options || {});
    if (opts.method === 'POST') {
      opts.headers['Content-Type'] = 'application/json';
      if (opts.body === undefined) opts.body = '{}';
    }
    const res = await fetch(path, opts);
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) {
      const why = data && data.error ? data.error : res.statusText;
      throw new Error('HTTP ' + res.status + ': ' + why);
    }
    return data;
  }

  function queuePath(name, suffix) {
    const bare = name.startsWith('queue://') ? name.slice(8) : name;
    return '/api/queues/' + encodeURIComponent(bare) + (suffix || '');
  }

  function bytes(n) {
    if (n < 1024) return n + ' B';
    const units = ['KiB', 'MiB', 'GiB', 'TiB'];
    let v = n / 1024, i = 0;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return v.toFixed(1) + ' ' + units[i];
  }

  function duration(ms) {
    let s = Math.floor(ms / 1000);
    const d = Math.floor(s / 86400); s -= d * 86400;
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    return (d ? d + 'd ' : '') + (d || h ? h + 'h ' : '') + (d || h || m ? m + 'm ' : '') + s + 's';
  }

  function setField(name, text) {
    const cell = document.querySelector('[data-field="' + name + '"]');
    if (cell) cell.textContent = text;
  }

  function numCell(cls, value) {
    return el('td', { className: 'num ' + cls, text: String(value) });
  }

  // Replaces the rows of a table body (used where no row holds state).
  function fillRows(tbody, rows) {
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    for (const r of rows) tbody.appendChild(r);
  }

  // -- header (every page)
  async function header() {
    const o = await api('/api/overview');
    document.getElementById('node-name').textContent = o.node;
    document.getElementById('node-role').textContent = o.role;
    return o;
  }

  // -- overview
  async function overview() {
    const o = await header();
    const s = o.store;
    setField('node', o.node);
    setField('role', o.role);
    setField('uptime', duration(o.uptime_ms));
    setField('store_use', bytes(s.used_bytes) + ' of ' + bytes(s.map_size_bytes) + ' (' +
             s.used_percent.toFixed(1) + ' %)');
    setField('store_id', s.store_id);
    setField('commits', s.commits + ' (' + s.operations + ' operations, ' +
             s.failed_commits + ' failed)');
    setField('batch', s.last_batch + ' / ' + s.max_batch + ' / ' + s.mean_batch.toFixed(1));
    setField('last_commit', s.last_commit_ms.toFixed(2) + ' ms');
    setField('readers', s.open_readers + ' / ' + s.readers);
    setField('oldest_reader', s.oldest_reader_pid
               ? 'pid ' + s.oldest_reader_pid + ' at transaction ' + s.oldest_reader_txn + ' (' +
                 s.oldest_reader_lag + ' commits behind)'
               : 'none open');
    setField('destinations', String(o.destinations));
    setField('connections', String(o.connections));
    setField('bridges', o.bridges ? String(o.bridges) : 'no network connectors');
    setField('ports', o.client_port + ' / ' + o.cluster_port + ' / ' + o.console_port);
    setField('data_dir', o.data_dir);
  }

  // -- queues
  let browsing = null;

  async function purge(name) {
    if (!window.confirm('Purge every pending message of ' + name + '?')) return;
    try {
      const r = await api(queuePath(name, '/purge'), { method: 'POST' });
      showMessage('Purged ' + r.purged + ' messages from ' + r.queue + '.');
    } catch (e) {
      showMessage('Purge of ' + name + ' failed: ' + e.message, true);
    }
    refresh();
    if (browsing === name) browse(name);
  }

  async function retry(name) {
    try {
      const r = await api(queuePath(name, '/retry'), { method: 'POST' });
      showMessage('Moved ' + r.moved + ' messages of ' + r.queue +
                  ' back to their original destinations.');
    } catch (e) {
      showMessage('Retry of ' + name + ' failed: ' + e.message, true);
    }
    refresh();
    if (browsing === name) browse(name);
  }

  async function browse(name) {
    browsing = name;
    const section = document.getElementById('browse-section');
    section.hidden = false;
    document.getElementById('browse-queue').textContent = name;
    const tbody = document.querySelector('#browse tbody');
    try {
      const r = await api(queuePath(name, '/messages') + '?max=100');
      fillRows(tbody, r.messages.map(m => el('tr', null, [
        numCell('key', m.key),
        el('td', { text: m.persistent ? 'yes' : 'no' }),
        numCell('priority', m.priority),
        el('td', { text: m.redelivered ? 'yes (' + m.delivery_count + ')' : 'no' }),
        el('td', { text: m.timestamp_ms ? new Date(m.timestamp_ms).toISOString() : '' }),
        el('td', { text: m.producer_id || '' }),
        el('td', { className: 'body', text: m.error ? m.error :
                   m.body + (m.body_truncated ? ' … (' + m.body_bytes + ' bytes)' : '') }),
      ])));
      document.getElementById('browse-empty').hidden = r.messages.length > 0;
    } catch (e) {
      fillRows(tbody, []);
      showMessage('Browse of ' + name + ' failed: ' + e.message, true);
    }
  }

  function queueRow(name) {
    // A topic (its consumers are subscribers) has nothing to browse or purge.
    const topic = name.startsWith('topic://');
    const actions = [
      el('button', { type: 'button', className: 'chart', text: 'Chart',
                     onclick: () => showCharts(name) }),
      el('button', { type: 'button', className: 'send', text: 'Send',
                     onclick: () => {
                       document.getElementById('send-queue').value = name;
                       document.getElementById('send-body').focus();
                     } }),
    ];
    if (!topic) {
      actions.unshift(el('button', { type: 'button', className: 'browse', text: 'Browse',
                                     onclick: () => browse(name) }));
      actions.push(el('button', { type: 'button', className: 'purge danger', text: 'Purge',
                                  onclick: () => purge(name) }));
      // Dead-letter queues (ActiveMQ.DLQ, DLQ.<name>) can send their messages back.
      if (name.includes('DLQ'))
        actions.push(el('button', { type: 'button', className: 'retry', text: 'Retry',
                                    onclick: () => retry(name) }));
    }
    const tr = el('tr', { 'data-queue': name }, [
      el('td', { className: 'name', text: name }),
      numCell('pending', ''), numCell('consumers', ''), numCell('enqueued', ''),
      numCell('dequeued', ''), numCell('in-flight', ''), numCell('duplicates', ''),
      numCell('memory', ''),
      el('td', { className: 'actions' }, actions),
    ]);
    return tr;
  }

  async function queues() {
    await header();
    const r = await api('/api/queues');
    const tbody = document.querySelector('#queues tbody');
    const existing = new Map();
    for (const tr of Array.from(tbody.rows)) existing.set(tr.dataset.queue, tr);
    const seen = new Set();
    for (const q of r.queues) {
      seen.add(q.name);
      let tr = existing.get(q.name);
      if (!tr) { tr = queueRow(q.name); tbody.appendChild(tr); }
      const set = (cls, v) => { tr.querySelector('td.' + cls).textContent = String(v); };
      set('pending', q.pending);
      set('consumers', q.consumers);
      set('enqueued', q.enqueued);
      set('dequeued', q.dequeued);
      set('in-flight', q.in_flight);
      set('duplicates', q.duplicates_dropped);
      set('memory', bytes(q.memory_bytes) + (q.flow_controlled
          ? ' (producers held' + (q.flow_reason ? ': ' + q.flow_reason : '') + ')' : ''));
    }
    for (const [name, tr] of existing) if (!seen.has(name)) tr.remove();
    document.getElementById('queues-empty').hidden = r.queues.length > 0;
  }

  function setupQueues() {
    document.getElementById('send-form').addEventListener('submit', async ev => {
      ev.preventDefault();
      const name = document.getElementById('send-queue').value.trim();
      const body = {
        body: document.getElementById('send-body').value,
        persistent: document.getElementById('send-persistent').checked,
        count: parseInt(document.getElementById('send-count').value || '1', 10),
      };
      try {
        const r = await api(queuePath(name, '/send'), { method: 'POST', body: JSON.stringify(body) });
        showMessage('Sent ' + r.sent + ' message(s) to ' + r.queue + '.');
      } catch (e) {
        showMessage('Send to ' + name + ' failed: ' + e.message, true);
      }
      refresh();
      if (browsing === name || browsing === 'queue://' + name) browse(browsing);
    });
    document.getElementById('browse-refresh').addEventListener('click', () => {
      if (browsing) browse(browsing);
    });
  }

  // -- topics and durable subscriptions
  async function topics() {
    await header();
    const r = await api('/api/topics');
    const chartButton = name => el('button', { type: 'button', className: 'chart', text: 'Chart',
                                                onclick: () => showCharts(name) });
    fillRows(document.querySelector('#topics tbody'), r.topics.map(t => el('tr', {
      'data-topic': t.name }, [
      el('td', { className: 'name', text: t.name }),
      numCell('subscribers', t.subscribers), numCell('pending', t.pending),
      numCell('enqueued', t.enqueued), numCell('dequeued', t.dequeued),
      numCell('discarded', t.discarded),
      el('td', { className: 'actions' }, [chartButton(t.name)]),
    ])));
    document.getElementById('topics-empty').hidden = r.topics.length > 0;
    fillRows(document.querySelector('#durables tbody'), r.durable_subscriptions.map(d => el('tr', {
      'data-subscription': d.client_id + ':' + d.subscription_name }, [
      el('td', { text: d.client_id }), el('td', { text: d.subscription_name }),
      el('td', { text: d.topic }),
      el('td', { className: 'state', text: d.active ? 'active' : 'offline' }),
      numCell('pending', d.pending), numCell('enqueued', d.enqueued),
      numCell('dequeued', d.dequeued),
      el('td', { className: 'actions' }, [
        chartButton(d.name),
        el('button', { type: 'button', className: 'unsubscribe danger', text: 'Unsubscribe',
                       onclick: () => unsubscribe(d) }),
      ]),
    ])));
    document.getElementById('durables-empty').hidden = r.durable_subscriptions.length > 0;
  }

  async function unsubscribe(d) {
    if (!confirm('Remove the durable subscription ' + d.subscription_name + ' of client id ' +
                 d.client_id + ' and its pending messages?')) return;
    try {
      const r = await api('/api/topics/unsubscribe', { method: 'POST', body: JSON.stringify({
        client_id: d.client_id, subscription_name: d.subscription_name }) });
      showMessage('Removed the durable subscription ' + r.subscription_name + ' of client id ' +
                  r.client_id + ' (' + r.removed_messages + ' messages).');
    } catch (e) {
      showMessage('Unsubscribe of ' + d.subscription_name + ' failed: ' + e.message, true);
    }
    refresh();
  }

  // -- charts: one destination's enqueue and dequeue rates and pending count over the samples
  // the node keeps (/api/queues/NAME/history), drawn as inline SVG.
  const SVG_NS = 'http://www.w3.org/2000/svg';
  let charted = null;

  function svgEl(tag, attrs) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    return e;
  }

  function figure(n) {
    return n >= 100 || Number.isInteger(n) ? String(Math.round(n)) : n.toFixed(1);
  }

  // points: [[time ms, value], ...]
  function chart(title, points) {
    const W = 260, H = 70;
    const svg = svgEl('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H,
                               role: 'img', 'aria-label': title });
    const peak = Math.max(0, ...points.map(p => p[1]));
    const max = Math.max(1, peak);
    if (points.length >= 2) {
      const t0 = points[0][0], span = Math.max(1, points[points.length - 1][0] - t0);
      const coords = points.map(([t, v]) => ((t - t0) / span * (W - 4) + 2).toFixed(1) + ',' +
                                            (H - 2 - v / max * (H - 4)).toFixed(1));
      svg.appendChild(svgEl('polyline', { points: coords.join(' '), fill: 'none',
                                          stroke: 'currentColor', 'stroke-width': '1.5' }));
    }
    const last = points.length ? points[points.length - 1][1] : 0;
    return el('figure', { className: 'chart', 'data-chart': title }, [
      svg,
      el('figcaption', { text: title + ': ' + figure(last) + ' now' +
                               (peak > 0 ? ', ' + figure(peak) + ' at most' : '') }),
    ]);
  }

  async function drawCharts() {
    if (!charted) return;
    const h = await api(queuePath(charted, '/history'));
    const s = h.samples;
    const rate = key => s.slice(1).map((x, i) => [x.t, Math.max(0, x[key] - s[i][key]) * 1000 /
                                                         Math.max(1, x.t - s[i].t)]);
    fillRows(document.getElementById('charts-body'), [
      chart('enqueued msg/s', rate('enqueued')),
      chart('dequeued msg/s', rate('dequeued')),
      chart('pending', s.map(x => [x.t, x.pending])),
    ]);
    document.getElementById('charts-name').textContent = charted;
    const every = h.interval_ms < 1000 ? h.interval_ms + ' ms' : duration(h.interval_ms);
    document.getElementById('charts-span').textContent = s.length > 1
      ? 'The last ' + duration(s[s.length - 1].t - s[0].t) + ', a sample every ' + every + '.'
      : 'Not enough samples yet (one every ' + every + ').';
    document.getElementById('charts').hidden = false;
  }

  function showCharts(name) {
    charted = name;
    drawCharts().catch(e => showMessage('Charts of ' + name + ': ' + e.message, true));
  }

  // -- connections
  async function connections() {
    await header();
    const r = await api('/api/connections');
    fillRows(document.querySelector('#listeners tbody'), r.listeners.map(l => el('tr', {
      'data-listener': l.listener }, [
      el('td', { text: l.listener }),
      el('td', { text: l.protocol }),
      numCell('port', l.port),
      numCell('sessions', l.sessions),
      numCell('accepted', l.accepted),
      numCell('refused', l.refused),
      numCell('actor', l.actor_id),
    ])));
    fillRows(document.querySelector('#connections tbody'), r.connections.map(c => el('tr', {
      'data-session': String(c.session_id), 'data-listener': c.listener }, [
      el('td', { text: c.listener }),
      numCell('session', c.session_id),
      el('td', { text: c.peer }),
      el('td', { text: c.client_id }),
      numCell('consumers', c.consumers),
      numCell('messages-in', c.messages_in),
      numCell('deliveries-out', c.deliveries_out),
      numCell('acks-in', c.acks_in),
      numCell('unanswered', c.unanswered_sends),
      el('td', { text: c.answered ? (c.reading_halted ? 'halted (flow control)' : 'yes')
                                  : 'not answering: ' + (c.error || '') }),
      numCell('actor', c.actor_id),
    ])));
    document.getElementById('connections-empty').hidden = r.connections.length > 0;
    document.getElementById('connections-totals').textContent =
      'Accepted since start: ' + r.accepted + ', refused: ' + r.refused + '.';
  }

  // -- bridges
  async function bridges() {
    await header();
    const r = await api('/api/bridges');
    fillRows(document.querySelector('#bridges tbody'), r.bridges.map(b => {
      const st = b.state || {};
      const shown = ['name', 'peer', 'peer-address', 'state', 'kind', 'actor-id', 'last-error'];
      const details = Object.entries(st)
        .filter(([k]) => !shown.includes(k))
        .map(([k, v]) => k + ' ' + (typeof v === 'object' ? JSON.stringify(v) : String(v)))
        .join(', ') + (st['last-error'] ? '; last error: ' + st['last-error'] : '');
      const peer = String(st.peer || '-') + (st['peer-address'] ? ' at ' + st['peer-address'] : '');
      return el('tr', { 'data-bridge': String(st.name || b.actor_id) }, [
        el('td', { text: String(st.name || b.actor_id) }),
        el('td', { text: peer }),
        el('td', { text: String(st.state || st.kind || '') }),
        el('td', { text: details }),
      ]);
    }));
    document.getElementById('bridges-empty').hidden = r.bridges.length > 0;
    document.getElementById('bridges-configured').textContent = r.configured.length
      ? 'Configured network connectors: ' +
        r.configured.map(c => c.name + ' ' + c.uri).join('; ') +
        (r.bridges.length ? '' : ' (no bridge is running)')
      : '';
  }

  // -- scheduled messages
  async function cancelScheduled(id) {
    try {
      await api('/api/scheduled/' + encodeURIComponent(id) + '/cancel', { method: 'POST' });
      showMessage('Cancelled scheduled message ' + id + '.');
    } catch (e) {
      showMessage('Cancelling ' + id + ' failed: ' + e.message, true);
    }
    refresh();
  }

  async function scheduled() {
    await header();
    const r = await api('/api/scheduled');
    fillRows(document.querySelector('#scheduled tbody'), r.scheduled.map(s => el('tr', {
      'data-scheduled': s.id }, [
      el('td', { text: s.id }),
      el('td', { text: s.destination }),
      el('td', { text: new Date(s.next_ms).toISOString() }),
      el('td', { text: s.repeats_left < 0 ? 'no end' : String(s.repeats_left) }),
      el('td', { text: s.period_ms ? duration(s.period_ms) : '-' }),
      el('td', { text: s.cron || '-' }),
      numCell('delivered', s.delivered),
      el('td', { text: bytes(s.size) }),
      el('td', {}, [el('button', { text: 'Cancel', type: 'button', className: 'cancel',
                                   onclick: () => cancelScheduled(s.id) })]),
    ])));
    document.getElementById('scheduled-empty').hidden = r.scheduled.length > 0;
  }

  const pages = { overview, queues, topics, connections, bridges, scheduled };
  let busy = false;

  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      await pages[page]();
      await drawCharts();
      setStatus('updated ' + new Date().toLocaleTimeString());
    } catch (e) {
      setStatus('cannot reach the node: ' + e.message, true);
    } finally {
      busy = false;
    }
  }

  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.nav === page) a.classList.add('current');
  }
  if (page === 'queues') setupQueues();
  refresh();
  setInterval(refresh, REFRESH_MS);
})();
)JS";

} // namespace actormq::actors::pages
