// The web console's static files, shipped inside the program (no build step, no download):
// four HTML pages, one script (plain JavaScript, no framework) and one style sheet. The script
// builds every piece of data into the page with textContent, never with innerHTML, so queue
// names and message bodies cannot become markup; the Content-Security-Policy the console sends
// forbids inline scripts as a second line of defence.
#pragma once

namespace actormq::actors::pages {

#define ACTORMQ_PAGE_HEAD(TITLE, PAGE)                                                             \
  "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"                        \
  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"                     \
  "<title>ActorMQ console: " TITLE "</title>\n"                                                    \
  "<link rel=\"stylesheet\" href=\"/console.css\">\n</head>\n<body data-page=\"" PAGE "\">\n"      \
  "<header>\n<div class=\"brand\">ActorMQ <span id=\"node-name\"></span> "                         \
  "<span id=\"node-role\" class=\"role\"></span></div>\n<nav>\n"                                   \
  "<a href=\"/\" data-nav=\"overview\">Overview</a>\n"                                             \
  "<a href=\"/queues.html\" data-nav=\"queues\">Queues</a>\n"                                      \
  "<a href=\"/connections.html\" data-nav=\"connections\">Connections</a>\n"                       \
  "<a href=\"/bridges.html\" data-nav=\"bridges\">Network bridges</a>\n</nav>\n"                   \
  "<div id=\"status\" class=\"status\" role=\"status\"></div>\n</header>\n<main>\n"

#define ACTORMQ_PAGE_TAIL "</main>\n<script src=\"/console.js\"></script>\n</body>\n</html>\n"

inline const char* overview_html = ACTORMQ_PAGE_HEAD("overview", "overview") R"HTML(
<h1>Overview</h1>
<table class="facts" id="overview">
<tbody>
<tr><th>Node</th><td data-field="node"></td></tr>
<tr><th>Role</th><td data-field="role"></td></tr>
<tr><th>Uptime</th><td data-field="uptime"></td></tr>
<tr><th>Store use</th><td data-field="store_use"></td></tr>
<tr><th>Store id</th><td data-field="store_id"></td></tr>
<tr><th>Commits</th><td data-field="commits"></td></tr>
<tr><th>Commit batch (last / max / mean)</th><td data-field="batch"></td></tr>
<tr><th>Last commit</th><td data-field="last_commit"></td></tr>
<tr><th>Store readers (open / slots taken)</th><td data-field="readers"></td></tr>
<tr><th>Oldest reader</th><td data-field="oldest_reader"></td></tr>
<tr><th>Destinations</th><td data-field="destinations"></td></tr>
<tr><th>Connections</th><td data-field="connections"></td></tr>
<tr><th>Network bridges</th><td data-field="bridges"></td></tr>
<tr><th>Ports (client / cluster / console)</th><td data-field="ports"></td></tr>
<tr><th>Data folder</th><td data-field="data_dir"></td></tr>
</tbody>
</table>
<p class="note">Also: <a href="/health">/health</a>, <a href="/metrics">/metrics</a>,
<a href="/api/actors">/api/actors</a> (every actor's snapshot).</p>
)HTML" ACTORMQ_PAGE_TAIL;

inline const char* queues_html = ACTORMQ_PAGE_HEAD("queues", "queues") R"HTML(
<h1>Queues</h1>
<table class="grid" id="queues">
<thead><tr>
<th>Name</th><th>Pending</th><th>Consumers</th><th>Enqueued</th><th>Dequeued</th>
<th>In flight</th><th>Duplicates dropped</th><th>Memory</th><th>Actions</th>
</tr></thead>
<tbody></tbody>
</table>
<p id="queues-empty" class="empty" hidden>no queues yet</p>
<p class="note">Deleting a queue is not supported yet (the store cannot remove a destination);
purge empties one.</p>
<section id="send-section">
<h2>Send a message</h2>
<form id="send-form" autocomplete="off">
<label>Queue <input id="send-queue" name="queue" required></label>
<label>Persistent <input id="send-persistent" type="checkbox" checked></label>
<label>Count <input id="send-count" type="number" min="1" max="1000" value="1"></label>
<label class="wide">Body <textarea id="send-body" rows="4"></textarea></label>
<button id="send-button" type="submit">Send</button>
</form>
</section>
<section id="browse-section" hidden>
<h2>Messages of <span id="browse-queue"></span></h2>
<button id="browse-refresh" type="button">Browse again</button>
<table class="grid" id="browse">
<thead><tr><th>Key</th><th>Persistent</th><th>Priority</th><th>Redelivered</th>
<th>Timestamp</th><th>Producer</th><th>Body</th></tr></thead>
<tbody></tbody>
</table>
<p id="browse-empty" class="empty" hidden>no pending messages</p>
</section>
)HTML" ACTORMQ_PAGE_TAIL;

inline const char* connections_html = ACTORMQ_PAGE_HEAD("connections", "connections") R"HTML(
<h1>Connections</h1>
<h2>Listeners</h2>
<table class="grid" id="listeners">
<thead><tr>
<th>Listener</th><th>Protocol</th><th>Port</th><th>Connections</th><th>Accepted</th>
<th>Refused</th><th>Actor id</th>
</tr></thead>
<tbody></tbody>
</table>
<h2>Client connections</h2>
<table class="grid" id="connections">
<thead><tr>
<th>Listener</th><th>Session</th><th>Client address</th><th>Client id</th><th>Consumers</th>
<th>Messages in</th><th>Deliveries out</th><th>Acks in</th><th>Unanswered sends</th>
<th>Reading</th><th>Actor id</th>
</tr></thead>
<tbody></tbody>
</table>
<p id="connections-empty" class="empty" hidden>no client connections</p>
<p class="note" id="connections-totals"></p>
)HTML" ACTORMQ_PAGE_TAIL;

inline const char* bridges_html = ACTORMQ_PAGE_HEAD("network bridges", "bridges") R"HTML(
<h1>Network bridges</h1>
<table class="grid" id="bridges">
<thead><tr><th>Bridge</th><th>Peer</th><th>State</th><th>Details</th></tr></thead>
<tbody></tbody>
</table>
<p id="bridges-empty" class="empty" hidden>no network connectors</p>
<p class="note" id="bridges-configured"></p>
)HTML" ACTORMQ_PAGE_TAIL;

#undef ACTORMQ_PAGE_HEAD
#undef ACTORMQ_PAGE_TAIL

inline const char* console_css = R"CSS(
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: #1d2330; background: #f4f6f9; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 1.5em; padding: .6em 1.2em;
         background: #203047; color: #fff; }
header .brand { font-weight: 600; font-size: 1.1em; }
header .role { font-weight: 400; font-size: .8em; padding: .1em .5em; border-radius: 1em;
               background: #3c7d4a; }
header nav a { color: #cfe0ff; margin-right: 1em; text-decoration: none; }
header nav a.current { color: #fff; font-weight: 600; border-bottom: 2px solid #fff; }
.status { margin-left: auto; font-size: .85em; color: #cfe0ff; }
.status.error { color: #ffb3b3; font-weight: 600; }
main { padding: 1em 1.5em; }
h1 { font-size: 1.4em; margin: .3em 0 .8em; }
h2 { font-size: 1.1em; margin: 1.5em 0 .5em; }
table { border-collapse: collapse; background: #fff; }
table.grid { width: 100%; }
th, td { text-align: left; padding: .35em .7em; border-bottom: 1px solid #e1e5eb; }
table.grid th { background: #e9edf3; font-weight: 600; }
table.facts th { font-weight: 500; color: #4a5568; width: 18em; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.body { font-family: ui-monospace, monospace; white-space: pre-wrap; word-break: break-all;
          max-width: 40em; }
button { font: inherit; padding: .2em .7em; margin-right: .3em; cursor: pointer; }
button.danger { color: #a11; }
form { display: flex; flex-wrap: wrap; gap: .8em 1.5em; align-items: flex-end;
       background: #fff; padding: 1em; }
form label { display: flex; flex-direction: column; gap: .2em; }
form label.wide { flex-basis: 100%; }
textarea { width: 100%; font-family: ui-monospace, monospace; }
.empty { color: #6b7280; font-style: italic; }
.note { color: #6b7280; font-size: .9em; }
.message { padding: .5em 1em; margin: 0 0 1em; background: #e6f4ea; }
.message.error { background: #fde8e8; }
)CSS";

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
      set('memory', bytes(q.memory_bytes) + (q.flow_controlled ? ' (producers held)' : ''));
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

  const pages = { overview, queues, connections, bridges };
  let busy = false;

  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      await pages[page]();
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
