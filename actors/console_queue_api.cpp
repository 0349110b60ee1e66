// The console's JSON API about queues, from the broker's statistics and the queues themselves:
// /api/queues, /api/queues/NAME and /api/queues/NAME/messages (browsing, which takes nothing).
#include "actors/console_impl.hpp"
#include "actors/console_json.hpp"
#include "protocol/destination.hpp"
#include "protocol/envelope.hpp"
#include "protocol/uri.hpp"
#include "protocol/wire_envelope.hpp"

#include <caf/scoped_actor.hpp>

#include <cstdlib>
#include <map>

namespace actormq::actors {

using namespace console_detail;

namespace {

constexpr uint32_t default_browse = 100;
constexpr uint32_t max_browse = 1000;
constexpr size_t max_shown_body = 64 << 10;
} // namespace

json console::impl::stats_json(const destination_stats& s) {
  json w = json::object();
  w["name"] = s.name;
  // The URI's scheme: "queue" or "topic" (a topic's consumers are its subscribers).
  w["kind"] = s.name.substr(0, s.name.find("://"));
  w["pending"] = s.pending;
  w["consumers"] = s.consumers;
  w["enqueued"] = s.enqueued;
  w["dequeued"] = s.dequeued;
  w["in_flight"] = s.in_flight;
  w["duplicates_dropped"] = s.duplicates_dropped;
  w["memory_bytes"] = s.memory_bytes;
  w["flow_controlled"] = s.flow_controlled;
  // Why: "memory limit N bytes", "store full", or both; empty when not held.
  w["flow_reason"] = s.flow_reason;
  w["expired"] = s.expired;
  w["dead_lettered"] = s.dead_lettered;
  w["dropped"] = s.dropped;
  if (w["kind"] == "topic")
    w["discarded"] = s.discarded;
  return w;
}

void console::impl::queues(httplib::Response& res) {
  std::string why;
  auto list = stats(why);
  if (!list)
    return set_error(res, 503, why);
  json queues = json::array();
  for (auto& s : *list)
    queues.push_back(stats_json(s));
  json w = json::object();
  w["queues"] = std::move(queues);
  set_json(res, 200, console_text(w));
}

void console::impl::queue(const std::string& raw, httplib::Response& res) {
  auto name = protocol::canonical_destination(raw);
  if (!name)
    return set_error(res, 400, name.message());
  std::string why;
  auto list = stats(why);
  if (!list)
    return set_error(res, 503, why);
  for (auto& s : *list) {
    if (s.name == *name) {
      return set_json(res, 200, console_text(stats_json(s)));
    }
  }
  set_error(res, 404, "no such queue: " + *name);
}

void console::impl::browse(const std::string& raw, const httplib::Request& req,
                           httplib::Response& res) {
  uint32_t max = default_browse;
  if (req.has_param("max")) {
    auto text = req.get_param_value("max");
    char* end = nullptr;
    unsigned long v = std::strtoul(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || v == 0 || v > max_browse)
      return set_error(res, 400, "max must be a number from 1 to " + std::to_string(max_browse));
    max = static_cast<uint32_t>(v);
  }
  auto q = existing_queue_actor(raw);
  if (auto e = std::get_if<http_error>(&q))
    return set_error(res, *e);
  auto& queue = std::get<named_queue>(q);
  caf::scoped_actor self{system};
  std::optional<delivery_list> list;
  http_error failed{504, "no answer"};
  self->request(queue.actor, action_timeout, browse_atom::value, max)
      .receive([&](delivery_list& l) { list = std::move(l); },
               [&](caf::error& err) { failed = status_of(err); });
  if (!list)
    return set_error(res, failed);
  json messages = json::array();
  for (auto& d : *list) {
    protocol::envelope m;
    bool parsed = protocol::decode_envelope(d.payload, m);
    json w = json::object();
    w["key"] = d.key;
    w["redelivered"] = d.redelivered;
    w["delivery_count"] = static_cast<uint64_t>(d.delivery_count);
    if (!parsed) {
      w["error"] = "the stored message does not parse";
      messages.push_back(std::move(w));
      continue;
    }
    const std::string& body = m.body();
    w["body"] = body.substr(0, max_shown_body);
    w["body_bytes"] = static_cast<uint64_t>(body.size());
    w["body_truncated"] = body.size() > max_shown_body;
    w["persistent"] = m.persistent();
    w["priority"] = static_cast<int64_t>(m.priority());
    w["timestamp_ms"] = static_cast<int64_t>(m.timestamp_ms());
    w["expiration_ms"] = static_cast<int64_t>(m.expiration_ms());
    w["producer_id"] = m.producer_id();
    w["producer_sequence"] = static_cast<uint64_t>(m.producer_sequence());
    w["origin_store_id"] = m.origin_store_id();
    w["origin_sequence"] = static_cast<uint64_t>(m.origin_sequence());
    json properties = json::object();
    std::map<std::string, std::string> props(m.properties().begin(), m.properties().end());
    for (auto& [k, v] : m.typed_properties())
      props[k] = protocol::property_text(v);
    for (auto& [k, v] : props)
      properties[k] = v;
    w["properties"] = std::move(properties);
    messages.push_back(std::move(w));
  }
  json w = json::object();
  w["queue"] = queue.name;
  w["messages"] = std::move(messages);
  set_json(res, 200, console_text(w));
}

} // namespace actormq::actors
