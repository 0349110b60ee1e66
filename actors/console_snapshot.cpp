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

void write_settings(json_writer& w, const caf::settings& s) {
  w.begin_object();
  for (auto& [k, v] : s) {
    w.key(k);
    write_value(w, v);
  }
  w.end_object();
}

void write_value(json_writer& w, const caf::config_value& v) {
  auto& data = v.get_data();
  if (auto p = caf::get_if<caf::config_value::integer>(&data))
    w.num(*p);
  else if (auto p = caf::get_if<caf::config_value::boolean>(&data))
    w.boolean(*p);
  else if (auto p = caf::get_if<caf::config_value::real>(&data))
    w.real(*p);
  else if (auto p = caf::get_if<std::string>(&data))
    w.str(*p);
  else if (auto p = caf::get_if<caf::config_value::list>(&data)) {
    w.begin_array();
    for (auto& x : *p)
      write_value(w, x);
    w.end_array();
  } else if (auto p = caf::get_if<caf::config_value::dictionary>(&data))
    write_settings(w, *p);
  else
    w.str(caf::to_string(v));
}

} // namespace actormq::actors::console_detail
