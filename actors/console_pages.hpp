// The web console's pages and style sheet, shipped inside the program (no build step, no
// download): five HTML pages that load one script (console_script.hpp) and one style sheet. The
// Content-Security-Policy the console sends forbids inline scripts.
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
  "<a href=\"/topics.html\" data-nav=\"topics\">Topics</a>\n"                                      \
  "<a href=\"/connections.html\" data-nav=\"connections\">Connections</a>\n"                       \
  "<a href=\"/bridges.html\" data-nav=\"bridges\">Network bridges</a>\n"                           \
  "<a href=\"/scheduled.html\" data-nav=\"scheduled\">Scheduled</a>\n</nav>\n"                     \
  "<div id=\"status\" class=\"status\" role=\"status\"></div>\n</header>\n<main>\n"

// Where Chart draws a destination's charts (the queues and topics pages).
#define ACTORMQ_CHARTS                                                                             \
  "<section id=\"charts\" hidden>\n<h2>Charts of <span id=\"charts-name\"></span></h2>\n"          \
  "<p class=\"note\" id=\"charts-span\"></p>\n<div id=\"charts-body\" class=\"charts\"></div>\n"   \
  "</section>\n"

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
)HTML" ACTORMQ_CHARTS ACTORMQ_PAGE_TAIL;

inline const char* topics_html = ACTORMQ_PAGE_HEAD("topics", "topics") R"HTML(
<h1>Topics</h1>
<table class="grid" id="topics">
<thead><tr>
<th>Topic</th><th>Subscribers</th><th>Pending</th><th>Enqueued</th><th>Dequeued</th>
<th title="Dropped for slow subscribers (limits.slow_topic_subscriber)">Discarded</th>
<th>Actions</th>
</tr></thead>
<tbody></tbody>
</table>
<p id="topics-empty" class="empty" hidden>no topics yet</p>
<h2>Durable subscriptions</h2>
<table class="grid" id="durables">
<thead><tr>
<th>Client id</th><th>Subscription</th><th>Topic</th><th>State</th><th>Pending</th>
<th>Enqueued</th><th>Dequeued</th><th>Actions</th>
</tr></thead>
<tbody></tbody>
</table>
<p id="durables-empty" class="empty" hidden>no durable subscriptions</p>
)HTML" ACTORMQ_CHARTS ACTORMQ_PAGE_TAIL;

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

inline const char* scheduled_html = ACTORMQ_PAGE_HEAD("scheduled", "scheduled") R"HTML(
<h1>Scheduled messages</h1>
<table class="grid" id="scheduled">
<thead><tr><th>Id</th><th>Destination</th><th>Next delivery</th><th>Repeats left</th>
<th>Period</th><th>Cron</th><th>Delivered</th><th>Size</th><th>Actions</th></tr></thead>
<tbody></tbody>
</table>
<p id="scheduled-empty" class="empty" hidden>nothing is scheduled</p>
<p class="note">Messages sent with AMQ_SCHEDULED_DELAY, AMQ_SCHEDULED_PERIOD, AMQ_SCHEDULED_REPEAT
or AMQ_SCHEDULED_CRON wait here until they are due.</p>
)HTML" ACTORMQ_PAGE_TAIL;

#undef ACTORMQ_PAGE_HEAD
#undef ACTORMQ_PAGE_TAIL
#undef ACTORMQ_CHARTS

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
.charts { display: flex; flex-wrap: wrap; gap: 1em; }
figure.chart { margin: 0; padding: .5em; background: #fff; }
figure.chart svg { display: block; color: #2d6cdf; background: #f8fafc; }
figure.chart figcaption { font-size: .85em; color: #4a5568; }
)CSS";

} // namespace actormq::actors::pages
