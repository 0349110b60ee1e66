// The inspector's snapshot written as JSON for the console (console_snapshot.hpp).
#include "actors/console_snapshot.hpp"

#include <map>
#include <string>

namespace actormq::actors::console_detail {

namespace {

json value_json(const snapshot_value& v) {
  return std::visit(
      [](const auto& x) -> json {
        using type = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<type, double>)
          return json_real(x);
        else
          return x;
      },
      v);
}

template <class Snapshot>
json group_json(const std::map<std::string, snapshot_entry<Snapshot>>& group) {
  json out = json::object();
  for (auto& [id, entry] : group)
    out[id] = entry_json(fields_of(entry));
  return out;
}

} // namespace

json entry_json(const snapshot_fields& fields) {
  json out = json::object();
  for (auto& [name, value] : fields)
    out[name] = value_json(value);
  return out;
}

json snapshot_json(const inspector_snapshot& t) {
  // Keys in sorted order, as the snapshot's names sort.
  std::map<std::string, json> parts;
  if (t.node)
    parts["node"] = entry_json(fields_of(*t.node));
  if (t.lock_holder)
    parts["lock_holder"] = entry_json(fields_of(*t.lock_holder));
  if (t.store)
    parts["store"] = entry_json(fields_of(*t.store));
  if (t.broker)
    parts["broker"] = entry_json(fields_of(*t.broker));
  if (t.acceptor)
    parts["acceptor"] = entry_json(fields_of(*t.acceptor));
  if (!t.acceptors.empty())
    parts["acceptors"] = group_json(t.acceptors);
  if (!t.queues.empty())
    parts["queues"] = group_json(t.queues);
  if (!t.sessions.empty())
    parts["sessions"] = group_json(t.sessions);
  if (!t.bridges.empty())
    parts["bridges"] = group_json(t.bridges);
  json out = json::object();
  for (auto& [name, part] : parts)
    out[name] = std::move(part);
  return out;
}

} // namespace actormq::actors::console_detail
