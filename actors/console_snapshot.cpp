// The inspector's snapshot read and written as JSON for the console (console_snapshot.hpp).
#include "actors/console_snapshot.hpp"

#include <caf/config_value.hpp>

namespace actormq::actors::console_detail {

int64_t get_int(const caf::settings& s, caf::string_view key) {
  return caf::get_or(s, key, int64_t{0});
}

double get_real(const caf::settings& s, caf::string_view key) {
  if (auto v = caf::get_if<double>(&s, key))
    return *v;
  return static_cast<double>(get_int(s, key));
}

std::string get_str(const caf::settings& s, caf::string_view key) {
  return caf::get_or(s, key, std::string{});
}

const caf::settings* get_dict(const caf::settings& s, caf::string_view key) {
  auto v = caf::get_if(&s, key);
  if (!v)
    return nullptr;
  return caf::get_if<caf::settings>(&v->get_data());
}

json settings_json(const caf::settings& s) {
  json out = json::object();
  for (auto& [k, v] : s)
    out[k] = value_json(v);
  return out;
}

json value_json(const caf::config_value& v) {
  auto& data = v.get_data();
  if (auto p = caf::get_if<caf::config_value::integer>(&data))
    return *p;
  if (auto p = caf::get_if<caf::config_value::boolean>(&data))
    return *p;
  if (auto p = caf::get_if<caf::config_value::real>(&data))
    return json_real(*p);
  if (auto p = caf::get_if<std::string>(&data))
    return *p;
  if (auto p = caf::get_if<caf::config_value::list>(&data)) {
    json out = json::array();
    for (auto& x : *p)
      out.push_back(value_json(x));
    return out;
  }
  if (auto p = caf::get_if<caf::config_value::dictionary>(&data))
    return settings_json(*p);
  return caf::to_string(v);
}

} // namespace actormq::actors::console_detail
