// The console's blocking requests to the inspector and the broker, each with a timeout. They run
// on the HTTP threads (a caf::scoped_actor each), never on a scheduler worker.
#include "actors/console_impl.hpp"
#include "actors/errors.hpp"
#include "protocol/destination.hpp"
#include "protocol/uri.hpp"

#include <caf/scoped_actor.hpp>

#include <algorithm>

namespace actormq::actors {

using console_detail::http_error;

namespace {

using namespace std::chrono_literals;

constexpr auto snapshot_timeout = 5s; // the inspector answers within its per-actor timeout
constexpr auto stats_timeout = 5s;

} // namespace

std::optional<inspector_snapshot> console::impl::tree(std::string& why) {
  caf::scoped_actor self{system};
  std::optional<inspector_snapshot> out;
  self->request(inspector, snapshot_timeout, snapshot_atom::value)
      .receive([&](inspector_snapshot& s) { out = std::move(s); },
               [&](caf::error& err) { why = "the inspector did not answer: " + error_text(err); });
  return out;
}

std::optional<destination_stats_list> console::impl::stats(std::string& why) {
  caf::scoped_actor self{system};
  std::optional<destination_stats_list> out;
  self->request(broker, stats_timeout, stats_atom::value)
      .receive([&](destination_stats_list& l) { out = std::move(l); },
               [&](caf::error& err) { why = "the broker did not answer: " + error_text(err); });
  if (out)
    std::sort(out->begin(), out->end(), [](const destination_stats& a, const destination_stats& b) {
      return a.name < b.name;
    });
  return out;
}

std::variant<std::string, http_error> console::impl::existing_queue(const std::string& raw) {
  auto name = protocol::canonical_destination(raw);
  if (!name)
    return http_error{400, name.message()};
  std::string why;
  auto list = stats(why);
  if (!list)
    return http_error{503, why};
  for (auto& s : *list)
    if (s.name == *name)
      return *name;
  return http_error{404, "no such queue: " + *name};
}

std::variant<console::impl::named_queue, http_error>
console::impl::existing_queue_actor(const std::string& raw) {
  auto name = existing_queue(raw);
  if (auto e = std::get_if<http_error>(&name))
    return *e;
  auto q = queue_handle(std::get<std::string>(name));
  if (auto e = std::get_if<http_error>(&q))
    return *e;
  return named_queue{std::move(std::get<std::string>(name)), std::move(std::get<queue_actor>(q))};
}

std::variant<queue_actor, http_error> console::impl::queue_handle(const std::string& name) {
  caf::scoped_actor self{system};
  std::variant<queue_actor, http_error> out = http_error{503, "no answer"};
  auto d = protocol::parse_destination(name);
  if (!d)
    return http_error{400, d.message()};
  self->request(broker, stats_timeout, lookup_atom::value, std::move(*d))
      .receive([&](queue_actor& q) { out = std::move(q); },
               [&](caf::error& err) { out = status_of(err); });
  return out;
}

} // namespace actormq::actors
