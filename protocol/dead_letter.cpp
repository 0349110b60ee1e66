#include "protocol/dead_letter.hpp"

#include "protocol/destination.hpp"
#include "protocol/envelope.hpp"

namespace actormq::protocol {

bool make_dead_letter(const std::string& payload, const std::string& dead_letter_queue,
                      const std::string& cause, std::string& out) {
  envelope e;
  if (!decode_envelope(payload, e))
    return false;
  auto& props = *e.mutable_properties();
  // A property of that name with another type would shadow ours (a name is in one map only).
  e.mutable_typed_properties()->erase(original_destination_property);
  e.mutable_typed_properties()->erase(dead_letter_cause_property);
  if (props.find(original_destination_property) == props.end())
    props[original_destination_property] = e.destination();
  props[dead_letter_cause_property] = cause;
  e.set_destination(dead_letter_queue);
  e.set_expiration_ms(0);
  encode_envelope(e, out);
  return true;
}

bool make_retry(const std::string& payload, std::string& out, std::string& target) {
  envelope e;
  if (!decode_envelope(payload, e))
    return false;
  auto& props = *e.mutable_properties();
  auto original = props.find(original_destination_property);
  if (original == props.end() || original->second.empty())
    return false;
  auto parsed = parse_destination(original->second);
  if (!parsed)
    return false;
  target = parsed->uri();
  props.erase(original);
  props.erase(dead_letter_cause_property);
  e.set_destination(target);
  encode_envelope(e, out);
  return true;
}

} // namespace actormq::protocol
