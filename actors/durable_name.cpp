#include "actors/durable_name.hpp"

#include <string_view>

namespace actormq::actors {

namespace {

void append_escaped(std::string& out, std::string_view part) {
  for (char c : part) {
    if (c == '%')
      out += "%25";
    else if (c == ':')
      out += "%3A";
    else if (c == '@')
      out += "%40";
    else
      out += c;
  }
}

std::optional<std::string> unescaped(std::string_view part) {
  std::string out;
  for (size_t i = 0; i < part.size(); ++i) {
    if (part[i] != '%') {
      out += part[i];
      continue;
    }
    auto code = part.substr(i + 1, 2);
    if (code == "25")
      out += '%';
    else if (code == "3A")
      out += ':';
    else if (code == "40")
      out += '@';
    else
      return std::nullopt;
    i += 2;
  }
  return out;
}

bool plain_selector_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

void append_selector(std::string& out, std::string_view selector) {
  static const char hex[] = "0123456789ABCDEF";
  for (unsigned char c : selector) {
    if (plain_selector_byte(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

std::optional<std::string> selector_of(std::string_view part) {
  std::string out;
  for (size_t i = 0; i < part.size(); ++i) {
    if (part[i] != '%') {
      out += part[i];
      continue;
    }
    if (i + 2 >= part.size())
      return std::nullopt;
    int high = hex_value(part[i + 1]);
    int low = hex_value(part[i + 2]);
    if (high < 0 || low < 0)
      return std::nullopt;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

} // namespace

std::string durable_store_name(const durable_name& d) {
  std::string out = durable_scheme;
  append_escaped(out, d.client_id);
  out += ':';
  append_escaped(out, d.subscription_name);
  if (!d.selector.empty()) {
    out += ':';
    append_selector(out, d.selector);
  }
  out += '@';
  out += d.topic;
  return out;
}

std::optional<durable_name> parse_durable_store_name(const std::string& store_name) {
  std::string_view rest = store_name;
  std::string_view scheme = durable_scheme;
  if (rest.substr(0, scheme.size()) != scheme)
    return std::nullopt;
  rest.remove_prefix(scheme.size());
  auto first = rest.find(':');
  if (first == std::string_view::npos)
    return std::nullopt;
  auto second = rest.find('@', first + 1);
  if (second == std::string_view::npos)
    return std::nullopt;
  // A third part, before the '@', is the selector.
  auto third = rest.substr(first + 1, second - first - 1).find(':');
  auto name_end = third == std::string_view::npos ? second : first + 1 + third;
  auto client = unescaped(rest.substr(0, first));
  auto name = unescaped(rest.substr(first + 1, name_end - first - 1));
  std::optional<std::string> selector = std::string();
  if (name_end != second)
    selector = selector_of(rest.substr(name_end + 1, second - name_end - 1));
  if (!client || !name || !selector || (name_end != second && selector->empty()))
    return std::nullopt;
  return durable_name{std::move(*client), std::move(*name), std::string(rest.substr(second + 1)),
                      std::move(*selector)};
}

std::string network_subscription_name(const std::string& link_id, const std::string& topic) {
  std::string_view name = topic;
  if (auto scheme = name.find("://"); scheme != std::string_view::npos)
    name.remove_prefix(scheme + 3);
  return link_id + "/" + std::string(name);
}

bool is_network_subscription(const durable_name& d, const std::string& link_id) {
  if (d.client_id != network_client_id)
    return false;
  return link_id.empty() || d.subscription_name.rfind(link_id + "/", 0) == 0;
}

} // namespace actormq::actors
