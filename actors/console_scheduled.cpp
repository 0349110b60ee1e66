// The console's scheduled messages (docs/scheduled.md): GET /api/scheduled lists them, the
// earliest first; POST /api/scheduled/ID/cancel removes one.
#include "actors/console_impl.hpp"
#include "actors/console_json.hpp"
#include "actors/errors.hpp"

#include <caf/scoped_actor.hpp>

#include <charconv>

namespace actormq::actors {

using console_detail::json;

void console::impl::scheduled(httplib::Response& res) {
  if (!scheduler)
    return set_error(res, 404, "the scheduler is off (scheduler_support: false)");
  caf::scoped_actor self{system};
  std::optional<scheduled_list> list;
  std::string why;
  self->request(scheduler, console_detail::action_timeout, list_atom::value)
      .receive([&](scheduled_list& l) { list = std::move(l); },
               [&](caf::error& err) { why = "the scheduler did not answer: " + error_text(err); });
  if (!list)
    return set_error(res, 503, why);
  json out = json::array();
  for (auto& s : *list) {
    json item;
    item["id"] = std::to_string(s.id); // beyond 2^53: a string, as JavaScript reads it exactly
    item["destination"] = s.destination;
    item["next_ms"] = s.next_ms;
    item["period_ms"] = s.period_ms;
    item["repeats_left"] = s.repeats_left;
    item["cron"] = s.cron;
    item["delivered"] = s.delivered;
    item["size"] = s.size;
    out.push_back(std::move(item));
  }
  json body;
  body["scheduled"] = std::move(out);
  set_json(res, 200, console_detail::console_text(body));
}

void console::impl::cancel_scheduled(const std::string& raw, httplib::Response& res) {
  if (!scheduler)
    return set_error(res, 404, "the scheduler is off (scheduler_support: false)");
  uint64_t id = 0;
  auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), id);
  if (ec != std::errc{} || end != raw.data() + raw.size())
    return set_error(res, 400, "'" + raw + "' is not a scheduled message id");
  caf::scoped_actor self{system};
  std::optional<bool> cancelled;
  http_error failed{503, "no answer"};
  self->request(scheduler, console_detail::action_timeout, cancel_atom::value, id)
      .receive([&](bool b) { cancelled = b; }, [&](caf::error& err) { failed = status_of(err); });
  if (!cancelled)
    return set_error(res, failed);
  if (!*cancelled)
    return set_error(res, 404, "no scheduled message " + raw);
  json body;
  body["cancelled"] = std::to_string(id);
  set_json(res, 200, console_detail::console_text(body));
}

} // namespace actormq::actors
