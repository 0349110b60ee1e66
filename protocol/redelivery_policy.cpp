#include "protocol/redelivery_policy.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <type_traits>

namespace actormq::protocol {

namespace {

// Waits are held below this, so that a product never overflows.
constexpr int64_t longest_delay_ms = std::numeric_limits<int64_t>::max() / 4;

std::string number_text(double v) {
  std::ostringstream out;
  out << v;
  auto s = out.str();
  // Java prints a double with a fraction: 5.0.
  if (s.find_first_of(".eE") == std::string::npos)
    s += ".0";
  return s;
}

bool parse_int64(const std::string& text, int64_t& out) {
  auto* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && p == end && !text.empty();
}

} // namespace

int64_t redelivery_policy::delay_before(uint32_t redelivery) const {
  int64_t delay = initial_redelivery_delay_ms;
  for (uint32_t n = 2; n <= redelivery; ++n) {
    int64_t next = redelivery_delay_ms;
    if (delay > 0 && use_exponential_back_off && back_off_multiplier > 1) {
      double product = static_cast<double>(delay) * back_off_multiplier;
      next = product >= static_cast<double>(longest_delay_ms) ? longest_delay_ms
                                                              : static_cast<int64_t>(product);
      if (maximum_redelivery_delay_ms != -1 && next > maximum_redelivery_delay_ms)
        next = std::max(maximum_redelivery_delay_ms, redelivery_delay_ms);
    }
    // From here on every wait is the same.
    if (next == delay)
      break;
    delay = next;
  }
  return delay;
}

std::string redelivery_policy::describe() const {
  return "RedeliveryPolicy {maximumRedeliveries=" + std::to_string(maximum_redeliveries) +
         ", initialRedeliveryDelay=" + std::to_string(initial_redelivery_delay_ms) +
         ", redeliveryDelay=" + std::to_string(redelivery_delay_ms) +
         ", useExponentialBackOff=" + (use_exponential_back_off ? "true" : "false") +
         ", backOffMultiplier=" + number_text(back_off_multiplier) +
         ", maximumRedeliveryDelay=" + std::to_string(maximum_redelivery_delay_ms) + "}";
}

std::string dead_letter_strategy::target_for(const std::string& canonical_queue) const {
  constexpr std::string_view scheme = "queue://";
  if (!individual)
    return std::string(scheme) + dead_letter_queue;
  auto name = canonical_queue.rfind(scheme, 0) == 0 ? canonical_queue.substr(scheme.size())
                                                    : canonical_queue;
  return std::string(scheme) + queue_prefix + name;
}

const destination_policy* policy_for(const std::vector<destination_policy>& entries,
                                     const std::string& canonical_name) {
  const destination_policy* best = nullptr;
  size_t best_rank = 0;
  for (auto& e : entries) {
    if (!matches(e.pattern, canonical_name))
      continue;
    // An exact name ranks above any wildcard; otherwise more literal elements rank higher.
    size_t rank = 0;
    if (!has_wildcard(e.pattern)) {
      rank = std::numeric_limits<size_t>::max();
    } else {
      for (auto& element : e.pattern.elements)
        if (element != "*" && element != ">")
          ++rank;
      ++rank; // any match ranks above none
    }
    if (!best || rank > best_rank) {
      best = &e;
      best_rank = rank;
    }
  }
  return best;
}

std::string redelivery_exceeded_cause(uint32_t delivery_count, const redelivery_policy& p) {
  return "Delivery[" + std::to_string(delivery_count) +
         "] exceeds redelivery policy limit:" + p.describe();
}

bool valid(const redelivery_policy& p, std::string& error) {
  if (p.maximum_redeliveries < -1)
    error = "maximumRedeliveries must be -1 (no limit) or more, not " +
            std::to_string(p.maximum_redeliveries);
  else if (p.initial_redelivery_delay_ms < 0)
    error = "initialRedeliveryDelay must not be negative, not " +
            std::to_string(p.initial_redelivery_delay_ms);
  else if (p.redelivery_delay_ms < 0)
    error = "redeliveryDelay must not be negative, not " + std::to_string(p.redelivery_delay_ms);
  else if (!(p.back_off_multiplier >= 1) || !std::isfinite(p.back_off_multiplier))
    error = "backOffMultiplier must be a number of at least 1, not " +
            number_text(p.back_off_multiplier);
  else if (p.maximum_redelivery_delay_ms < -1)
    error = "maximumRedeliveryDelay must be -1 (no maximum) or more, not " +
            std::to_string(p.maximum_redelivery_delay_ms);
  else
    return true;
  return false;
}

bool set_redelivery_option(redelivery_policy& p, const std::string& name, const std::string& value,
                           std::string& error) {
  redelivery_policy changed = p;
  int64_t n = 0;
  auto integer = [&](auto& field) {
    using field_type = std::remove_reference_t<decltype(field)>;
    if (!parse_int64(value, n)) {
      error = "jms.redeliveryPolicy." + name + ": not a whole number: " + value;
      return false;
    }
    if (n < std::numeric_limits<field_type>::min() || n > std::numeric_limits<field_type>::max() ||
        n > longest_delay_ms) {
      error = "jms.redeliveryPolicy." + name + ": out of range: " + value;
      return false;
    }
    field = static_cast<field_type>(n);
    return true;
  };
  bool ok = true;
  if (name == "maximumRedeliveries") {
    ok = integer(changed.maximum_redeliveries);
  } else if (name == "initialRedeliveryDelay") {
    ok = integer(changed.initial_redelivery_delay_ms);
  } else if (name == "redeliveryDelay") {
    ok = integer(changed.redelivery_delay_ms);
  } else if (name == "maximumRedeliveryDelay") {
    ok = integer(changed.maximum_redelivery_delay_ms);
  } else if (name == "useExponentialBackOff") {
    if (value == "true")
      changed.use_exponential_back_off = true;
    else if (value == "false")
      changed.use_exponential_back_off = false;
    else {
      error = "jms.redeliveryPolicy.useExponentialBackOff: true or false, not " + value;
      return false;
    }
  } else if (name == "backOffMultiplier") {
    char* end = nullptr;
    double d = std::strtod(value.c_str(), &end);
    if (value.empty() || end != value.c_str() + value.size()) {
      error = "jms.redeliveryPolicy.backOffMultiplier: not a number: " + value;
      return false;
    }
    changed.back_off_multiplier = d;
  } else {
    error = "unknown option jms.redeliveryPolicy." + name;
    return false;
  }
  if (!ok)
    return false;
  std::string why;
  if (!valid(changed, why)) {
    error = "jms.redeliveryPolicy." + name + ": " + why;
    return false;
  }
  p = changed;
  return true;
}

} // namespace actormq::protocol
