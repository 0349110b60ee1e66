// The console's actions on queues, each a POST: send (messages given as JSON; a queue that does
// not exist yet is created), purge, delete, and retry (dead letters back to where they were).
#include "actors/console_impl.hpp"
#include "actors/console_json.hpp"
#include "actors/incoming.hpp"
#include "protocol/destination.hpp"
#include "protocol/uri.hpp"

#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>

namespace actormq::actors {

using namespace console_detail;

namespace {

// A JSON number's value (whether the body spelled it as an integer or not), or nullopt.
std::optional<double> number_of(const nlohmann::json& v) {
  if (!v.is_number())
    return std::nullopt;
  return v.get<double>();
}

// Dead letters one retry moves back at most, unless the request says fewer.
constexpr uint32_t default_retry = 1000;
constexpr uint32_t max_retry = 100000;

} // namespace

void console::impl::send(const std::string& raw, const httplib::Request& req,
                         httplib::Response& res) {
  if (req.body.size() > max_body_bytes)
    return set_error(res, 413, "the request body is larger than 1 MiB");
  std::string json_error;
  auto parsed = parse_body(req.body, json_error);
  if (!parsed)
    return set_error(res, 400, "malformed JSON: " + json_error);
  if (!parsed->is_object())
    return set_error(res, 400, "expected a JSON object such as {\"body\": \"text\"}");
  std::string body;
  bool persistent = true;
  int32_t priority = 4;
  double count = 1;
  for (auto& [k, v] : parsed->items()) { // in key order, as the object is a std::map
    if (k == "body") {
      if (!v.is_string())
        return set_error(res, 400, "body must be a string");
      body = v.get<std::string>();
    } else if (k == "persistent") {
      if (!v.is_boolean())
        return set_error(res, 400, "persistent must be true or false");
      persistent = v.get<bool>();
    } else if (k == "priority") {
      auto d = number_of(v);
      if (!d || *d < 0 || *d > 9 || std::floor(*d) != *d)
        return set_error(res, 400, "priority must be an integer from 0 to 9");
      priority = static_cast<int32_t>(*d);
    } else if (k == "count") {
      auto d = number_of(v);
      if (!d || *d < 1 || *d > 1000 || std::floor(*d) != *d)
        return set_error(res, 400, "count must be an integer from 1 to 1000");
      count = *d;
    } else {
      return set_error(res, 400,
                       "unknown field " + k + " (expected body, persistent, priority, count)");
    }
  }
  // As in ActiveMQ's console, a send to a queue that does not exist yet creates it.
  auto name = protocol::canonical_destination(raw);
  if (!name)
    return set_error(res, 400, name.message());
  auto q = queue_handle(*name);
  if (auto e = std::get_if<http_error>(&q))
    return set_error(res, *e);
  caf::scoped_actor self{system};
  uint64_t sent = 0;
  uint64_t duplicates = 0;
  auto n = static_cast<uint64_t>(count);
  for (uint64_t i = 0; i < n; ++i) {
    protocol::envelope m;
    m.set_destination(*name);
    m.set_body(body);
    m.set_persistent(persistent);
    m.set_priority(priority);
    m.set_timestamp_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count());
    m.set_producer_id(producer_id);
    m.set_producer_sequence(++producer_sequence);
    (*m.mutable_properties())["sent-by"] = "console";
    auto in = incoming_of(m);
    std::optional<http_error> failed;
    self->request(std::get<queue_actor>(q), action_timeout, send_atom::value, std::move(in))
        .receive(
            [&](send_result& r) {
              ++sent;
              duplicates += r.duplicate ? 1 : 0;
            },
            [&](caf::error& err) { failed = status_of(err); });
    if (failed) {
      failed->message += " (after " + std::to_string(sent) + " messages were sent)";
      return set_error(res, *failed);
    }
  }
  spdlog::info("console sends {} message(s) to {}", sent, *name);
  json answer = json::object();
  answer["queue"] = *name;
  answer["sent"] = sent;
  answer["duplicates"] = duplicates;
  set_json(res, 200, console_text(answer));
}

template <class Handle, class... Ts>
std::variant<uint64_t, http_error> console::impl::ask_count(const Handle& target, Ts&&... xs) {
  caf::scoped_actor self{system};
  std::variant<uint64_t, http_error> out = http_error{504, "no answer"};
  self->request(target, action_timeout, std::forward<Ts>(xs)...)
      .receive([&](uint64_t n) { out = n; }, [&](caf::error& err) { out = status_of(err); });
  return out;
}

void console::impl::purge(const std::string& raw, httplib::Response& res) {
  auto q = existing_queue_actor(raw);
  if (auto e = std::get_if<http_error>(&q))
    return set_error(res, *e);
  auto& queue = std::get<named_queue>(q);
  answer_count(res, queue.name, "purged", ask_count(queue.actor, purge_atom::value));
}

void console::impl::answer_count(httplib::Response& res, const std::string& queue, const char* what,
                                 const std::variant<uint64_t, http_error>& n) {
  if (auto e = std::get_if<http_error>(&n))
    return set_error(res, *e);
  spdlog::info("console: {} {} messages of {}", what, std::get<uint64_t>(n), queue);
  json answer = json::object();
  answer["queue"] = queue;
  answer[what] = std::get<uint64_t>(n);
  set_json(res, 200, console_text(answer));
}

void console::impl::retry(const std::string& raw, const httplib::Request& req,
                          httplib::Response& res) {
  uint32_t max = default_retry;
  if (!req.body.empty()) {
    std::string json_error;
    auto parsed = parse_body(req.body, json_error);
    if (!parsed || !parsed->is_object())
      return set_error(res, 400, "expected a JSON object such as {\"max\": 100}");
    for (auto& [k, v] : parsed->items()) {
      auto d = number_of(v);
      if (k != "max" || !d || *d < 1 || *d > max_retry || std::floor(*d) != *d)
        return set_error(res, 400,
                         "the only key is max, an integer from 1 to " + std::to_string(max_retry));
      max = static_cast<uint32_t>(*d);
    }
  }
  auto q = existing_queue_actor(raw);
  if (auto e = std::get_if<http_error>(&q))
    return set_error(res, *e);
  auto& queue = std::get<named_queue>(q);
  answer_count(res, queue.name, "moved", ask_count(queue.actor, retry_atom::value, max));
}

void console::impl::remove(const std::string& raw, httplib::Response& res) {
  auto name = existing_queue(raw);
  if (auto e = std::get_if<http_error>(&name))
    return set_error(res, *e);
  auto removed = ask_count(broker, remove_atom::value, std::get<std::string>(name));
  if (auto e = std::get_if<http_error>(&removed))
    return set_error(res, *e);
  spdlog::info("console deletes {} ({} messages)", std::get<std::string>(name),
               std::get<uint64_t>(removed));
  json answer = json::object();
  answer["queue"] = std::get<std::string>(name);
  answer["deleted"] = true;
  answer["removed_messages"] = std::get<uint64_t>(removed);
  set_json(res, 200, console_text(answer));
}

} // namespace actormq::actors
