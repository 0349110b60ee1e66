// The console's JSON API about queues, from the broker's statistics and the queues themselves:
// /api/queues, /api/queues/NAME and /api/queues/NAME/messages (browsing, which takes nothing).
#include "actors/console_impl.hpp"
#include "actors/console_json.hpp"
#include "protocol/actormq.pb.h"
#include "protocol/uri.hpp"

#include <caf/scoped_actor.hpp>

#include <cstdlib>
#include <map>

namespace actormq::actors {

using namespace console_detail;

namespace {

constexpr uint32_t default_browse = 100;
constexpr uint32_t max_browse = 1000;
constexpr size_t max_shown_body = 64 << 10;

void write_stats(json_writer& w, const destination_stats& s) {
  w.begin_object();
  w.field("name", s.name);
  w.field("pending", s.pending);
  w.field("consumers", s.consumers);
  w.field("enqueued", s.enqueued);
  w.field("dequeued", s.dequeued);
  w.field("in_flight", s.in_flight);
  w.field("duplicates_dropped", s.duplicates_dropped);
  w.field("memory_bytes", s.memory_bytes);
  w.field("flow_controlled", s.flow_controlled);
  w.end_object();
}

} // namespace

void console::impl::queues(httplib::Response& res) {
  std::string why;
  auto list = stats(why);
  if (!list)
    return set_error(res, 503, why);
  json_writer w;
  w.begin_object().key("queues").begin_array();
  for (auto& s : *list)
    write_stats(w, s);
  w.end_array().end_object();
  set_json(res, 200, std::move(w.out()));
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
      json_writer w;
      write_stats(w, s);
      return set_json(res, 200, std::move(w.out()));
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
  auto name = existing_queue(raw);
  if (auto e = std::get_if<http_error>(&name))
    return set_error(res, *e);
  auto q = queue_handle(std::get<std::string>(name));
  if (auto e = std::get_if<http_error>(&q))
    return set_error(res, *e);
  caf::scoped_actor self{system};
  std::optional<delivery_list> list;
  http_error failed{504, "no answer"};
  self->request(std::get<queue_actor>(q), action_timeout, browse_atom::value, max)
      .receive([&](delivery_list& l) { list = std::move(l); },
               [&](caf::error& err) { failed = status_of(err); });
  if (!list)
    return set_error(res, failed);
  json_writer w;
  w.begin_object().field("queue", std::get<std::string>(name)).key("messages").begin_array();
  for (auto& d : *list) {
    wire::Message m;
    bool parsed = m.ParseFromString(d.payload);
    w.begin_object();
    w.field("key", d.key);
    w.field("redelivered", d.redelivered);
    w.field("delivery_count", static_cast<uint64_t>(d.delivery_count));
    if (!parsed) {
      w.field("error", "the stored message does not parse");
      w.end_object();
      continue;
    }
    const std::string& body = m.body();
    w.field("body", std::string_view(body).substr(0, max_shown_body));
    w.field("body_bytes", static_cast<uint64_t>(body.size()));
    w.field("body_truncated", body.size() > max_shown_body);
    w.field("persistent", m.persistent());
    w.field("priority", static_cast<int64_t>(m.priority()));
    w.field("timestamp_ms", static_cast<int64_t>(m.timestamp_ms()));
    w.field("expiration_ms", static_cast<int64_t>(m.expiration_ms()));
    w.field("producer_id", m.producer_id());
    w.field("producer_sequence", static_cast<uint64_t>(m.producer_sequence()));
    w.field("origin_store_id", m.origin_store_id());
    w.field("origin_sequence", static_cast<uint64_t>(m.origin_sequence()));
    w.key("properties").begin_object();
    std::map<std::string, std::string> props(m.properties().begin(), m.properties().end());
    for (auto& [k, v] : props)
      w.field(k, v);
    w.end_object();
    w.end_object();
  }
  w.end_array().end_object();
  set_json(res, 200, std::move(w.out()));
}

} // namespace actormq::actors
