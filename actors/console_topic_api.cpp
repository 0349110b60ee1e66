// The console's topics: /api/topics lists every topic (its subscribers and counters) and every
// durable subscription (client id, name, topic, pending messages, whether a consumer is open),
// from the broker's statistics; POST /api/topics/unsubscribe removes a durable subscription as
// `actormq unsubscribe` does (refused while its consumer is open).
#include "actors/console_impl.hpp"
#include "actors/console_json.hpp"
#include "actors/durable_name.hpp"
#include "actors/errors.hpp"

#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>

namespace actormq::actors {

using namespace console_detail;

void console::impl::topics(httplib::Response& res) {
  std::string why;
  auto list = stats(why);
  if (!list)
    return set_error(res, 503, why);
  json topics = json::array();
  json durables = json::array();
  for (const auto& s : *list) {
    if (s.name.rfind("topic://", 0) == 0) {
      json t = stats_json(s);
      t["subscribers"] = s.consumers;
      topics.push_back(std::move(t));
    } else if (auto d = parse_durable_store_name(s.name)) {
      json w = stats_json(s);
      w["client_id"] = d->client_id;
      w["subscription_name"] = d->subscription_name;
      w["topic"] = d->topic;
      w["selector"] = d->selector; // empty: none
      w["active"] = s.consumers > 0;
      durables.push_back(std::move(w));
    }
  }
  json w = json::object();
  w["topics"] = std::move(topics);
  w["durable_subscriptions"] = std::move(durables);
  set_json(res, 200, console_text(w));
}

void console::impl::unsubscribe(const httplib::Request& req, httplib::Response& res) {
  std::string json_error;
  auto parsed = parse_body(req.body, json_error);
  if (!parsed)
    return set_error(res, 400, "malformed JSON: " + json_error);
  if (!parsed->is_object())
    return set_error(res, 400,
                     "expected a JSON object such as {\"client_id\": \"app1\", "
                     "\"subscription_name\": \"s1\"}");
  std::string client_id;
  std::string subscription_name;
  for (auto& [k, v] : parsed->items()) {
    if (k != "client_id" && k != "subscription_name")
      return set_error(res, 400, "unknown field " + k + " (expected client_id, subscription_name)");
    if (!v.is_string() || v.get<std::string>().empty())
      return set_error(res, 400, k + " must be a non-empty string");
    (k == "client_id" ? client_id : subscription_name) = v.get<std::string>();
  }
  if (client_id.empty() || subscription_name.empty())
    return set_error(res, 400, "client_id and subscription_name are both needed");
  caf::scoped_actor self{system};
  std::optional<uint64_t> removed;
  http_error failed{504, "no answer"};
  self->request(broker, action_timeout, unsub_atom::value, client_id, subscription_name)
      .receive([&](uint64_t n) { removed = n; },
               [&](caf::error& err) {
                 failed = status_of(err);
                 // No such subscription, or one with an open consumer: the request's conflict
                 // with the node's state, not a fault of the node.
                 if (err.category() == error_category &&
                     static_cast<broker_errc>(err.code()) == broker_errc::invalid_field)
                   failed.status = 409;
               });
  if (!removed)
    return set_error(res, failed);
  spdlog::info("console removes the durable subscription '{}' of client id '{}' ({} messages)",
               subscription_name, client_id, *removed);
  json answer = json::object();
  answer["client_id"] = client_id;
  answer["subscription_name"] = subscription_name;
  answer["removed_messages"] = *removed;
  set_json(res, 200, console_text(answer));
}

} // namespace actormq::actors
