// The web console: cpp-httplib on threads of its own (console_server: one per connection, up to
// a cap); every request it serves asks the actors through a caf::scoped_actor with a timeout
// (blocking is fine on an HTTP thread, never on a scheduler worker). docs/console.md documents
// the pages, the JSON API, /health and /metrics.
#include "actors/console.hpp"
#include "common/json.hpp"

#include "actors/console_pages.hpp"
#include "actors/console_server.hpp"
#include "actors/errors.hpp"
#include "protocol/actormq.pb.h"
#include "protocol/uri.hpp"

#include <caf/config_value.hpp>
#include <caf/scoped_actor.hpp>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <thread>
#include <variant>

namespace actormq::actors {

namespace {

using namespace std::chrono_literals;

constexpr auto snapshot_timeout = 5s; // the inspector answers within its per-actor timeout
constexpr auto stats_timeout = 5s;
constexpr auto action_timeout = 10s; // send, purge, browse
constexpr uint32_t default_browse = 100;
constexpr uint32_t max_browse = 1000;
constexpr size_t max_body_bytes = 1 << 20; // request bodies
constexpr size_t max_shown_body = 64 << 10;

// ---- JSON -----------------------------------------------------------------------------------

using actormq::json_string;

void json_number(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  char buf[32];
  if (std::floor(d) == d && std::fabs(d) < 9007199254740992.0) // integral: every digit
    std::snprintf(buf, sizeof buf, "%.0f", d);
  else
    std::snprintf(buf, sizeof buf, "%.9g", d);
  out += buf;
}

// A small JSON builder: objects and arrays with commas placed for the caller.
class json_writer {
public:
  json_writer& begin_object() {
    value_prefix();
    out_ += '{';
    first_ = true;
    return *this;
  }
  json_writer& end_object() {
    out_ += '}';
    first_ = false;
    return *this;
  }
  json_writer& begin_array() {
    value_prefix();
    out_ += '[';
    first_ = true;
    return *this;
  }
  json_writer& end_array() {
    out_ += ']';
    first_ = false;
    return *this;
  }
  json_writer& key(std::string_view k) {
    if (!first_)
      out_ += ',';
    json_string(out_, k);
    out_ += ':';
    after_key_ = true;
    return *this;
  }
  json_writer& str(std::string_view s) {
    value_prefix();
    json_string(out_, s);
    return *this;
  }
  json_writer& num(int64_t v) {
    value_prefix();
    out_ += std::to_string(v);
    return *this;
  }
  json_writer& unum(uint64_t v) {
    value_prefix();
    out_ += std::to_string(v);
    return *this;
  }
  json_writer& real(double v) {
    value_prefix();
    json_number(out_, v);
    return *this;
  }
  json_writer& boolean(bool b) {
    value_prefix();
    out_ += b ? "true" : "false";
    return *this;
  }
  json_writer& null() {
    value_prefix();
    out_ += "null";
    return *this;
  }
  template <class T> json_writer& field(std::string_view k, const T& v) {
    key(k);
    if constexpr (std::is_same_v<T, bool>)
      return boolean(v);
    else if constexpr (std::is_floating_point_v<T>)
      return real(v);
    else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>)
      return num(v);
    else if constexpr (std::is_integral_v<T>)
      return unum(v);
    else
      return str(v);
  }
  std::string& out() { return out_; }

private:
  void value_prefix() {
    if (!after_key_ && !first_)
      out_ += ',';
    after_key_ = false;
    first_ = false;
  }
  std::string out_;
  bool first_ = true;
  bool after_key_ = false;
};

void write_value(json_writer& w, const caf::config_value& v);

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

// A JSON value, parsed from a request body.
struct json_value {
  using object = std::map<std::string, json_value>;
  using array = std::vector<json_value>;
  std::variant<std::nullptr_t, bool, double, std::string, std::shared_ptr<array>,
               std::shared_ptr<object>>
      v;
};

class json_parser {
public:
  explicit json_parser(std::string_view text) : s_(text) {}

  // The value, or nullopt with error() set.
  std::optional<json_value> parse() {
    auto v = value(0);
    if (!v)
      return std::nullopt;
    ws();
    if (i_ != s_.size())
      return fail("unexpected text after the JSON value");
    return v;
  }
  const std::string& error() const { return error_; }

private:
  std::nullopt_t fail(std::string what) {
    if (error_.empty())
      error_ = what + " at offset " + std::to_string(i_);
    return std::nullopt;
  }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word)
      return false;
    i_ += word.size();
    return true;
  }
  std::optional<json_value> value(int depth) {
    if (depth > 32)
      return fail("JSON nested too deeply");
    ws();
    if (i_ >= s_.size())
      return fail("unexpected end of JSON");
    char c = s_[i_];
    if (c == '{')
      return obj(depth);
    if (c == '[')
      return arr(depth);
    if (c == '"') {
      auto s = string();
      if (!s)
        return std::nullopt;
      return json_value{std::move(*s)};
    }
    if (literal("true"))
      return json_value{true};
    if (literal("false"))
      return json_value{false};
    if (literal("null"))
      return json_value{nullptr};
    if (c == '-' || (c >= '0' && c <= '9'))
      return number();
    return fail("unexpected character in JSON");
  }
  std::optional<json_value> number() {
    size_t start = i_;
    if (s_[i_] == '-')
      ++i_;
    auto digits = [&] {
      size_t b = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9')
        ++i_;
      return i_ > b;
    };
    if (!digits())
      return fail("bad number");
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (!digits())
        return fail("bad number");
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-'))
        ++i_;
      if (!digits())
        return fail("bad number");
    }
    return json_value{std::strtod(std::string(s_.substr(start, i_ - start)).c_str(), nullptr)};
  }
  static void utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }
  std::optional<uint32_t> hex4() {
    if (i_ + 4 > s_.size())
      return std::nullopt;
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      char h = s_[i_++];
      v <<= 4;
      if (h >= '0' && h <= '9')
        v |= h - '0';
      else if (h >= 'a' && h <= 'f')
        v |= h - 'a' + 10;
      else if (h >= 'A' && h <= 'F')
        v |= h - 'A' + 10;
      else
        return std::nullopt;
    }
    return v;
  }
  std::optional<std::string> string() {
    ++i_; // "
    std::string out;
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (c == '"')
        return out;
      if (static_cast<unsigned char>(c) < 0x20) {
        fail("control character in a JSON string");
        return std::nullopt;
      }
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size())
        break;
      char e = s_[i_++];
      switch (e) {
      case '"':
      case '\\':
      case '/':
        out += e;
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        auto cp = hex4();
        if (!cp) {
          fail("bad \\u escape");
          return std::nullopt;
        }
        if (*cp >= 0xd800 && *cp < 0xdc00 && s_.substr(i_, 2) == "\\u") {
          i_ += 2;
          auto lo = hex4();
          if (!lo || *lo < 0xdc00 || *lo > 0xdfff) {
            fail("bad surrogate pair");
            return std::nullopt;
          }
          *cp = 0x10000 + ((*cp - 0xd800) << 10) + (*lo - 0xdc00);
        } else if (*cp >= 0xd800 && *cp < 0xe000) {
          *cp = 0xfffd;
        }
        utf8(out, *cp);
        break;
      }
      default:
        fail("bad escape in a JSON string");
        return std::nullopt;
      }
    }
    fail("unterminated JSON string");
    return std::nullopt;
  }
  std::optional<json_value> arr(int depth) {
    ++i_;
    auto a = std::make_shared<json_value::array>();
    ws();
    if (i_ < s_.size() && s_[i_] == ']') {
      ++i_;
      return json_value{a};
    }
    for (;;) {
      auto v = value(depth + 1);
      if (!v)
        return std::nullopt;
      a->push_back(std::move(*v));
      ws();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
        return json_value{a};
      }
      return fail("expected , or ] in a JSON array");
    }
  }
  std::optional<json_value> obj(int depth) {
    ++i_;
    auto o = std::make_shared<json_value::object>();
    ws();
    if (i_ < s_.size() && s_[i_] == '}') {
      ++i_;
      return json_value{o};
    }
    for (;;) {
      ws();
      if (i_ >= s_.size() || s_[i_] != '"')
        return fail("expected a key in a JSON object");
      auto k = string();
      if (!k)
        return std::nullopt;
      ws();
      if (i_ >= s_.size() || s_[i_] != ':')
        return fail("expected : in a JSON object");
      ++i_;
      auto v = value(depth + 1);
      if (!v)
        return std::nullopt;
      (*o)[*k] = std::move(*v);
      ws();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        return json_value{o};
      }
      return fail("expected , or } in a JSON object");
    }
  }

  std::string_view s_;
  size_t i_ = 0;
  std::string error_;
};

// ---- small helpers ----------------------------------------------------------------------------

std::optional<std::string> base64_decode(std::string_view in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z')
      return c - 'A';
    if (c >= 'a' && c <= 'z')
      return c - 'a' + 26;
    if (c >= '0' && c <= '9')
      return c - '0' + 52;
    if (c == '+')
      return 62;
    if (c == '/')
      return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=')
      break;
    int v = val(c);
    if (v < 0)
      return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

// Compares without stopping at the first difference.
bool same_secret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

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

// A Prometheus label value: backslash, double quote and newline escaped.
std::string label(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string number_text(double v) {
  std::string out;
  json_number(out, v);
  return out == "null" ? "NaN" : out;
}

// Prometheus text format, one metric family at a time.
class metrics_writer {
public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_.append(name);
    out_ += ' ';
    out_.append(help);
    out_ += "\n# TYPE ";
    out_.append(name);
    out_ += ' ';
    out_.append(type);
    out_ += '\n';
  }
  void sample(std::string_view name, std::string_view labels, double value) {
    out_.append(name);
    if (!labels.empty()) {
      out_ += '{';
      out_.append(labels);
      out_ += '}';
    }
    out_ += ' ';
    out_ += number_text(value);
    out_ += '\n';
  }
  void single(std::string_view name, std::string_view type, std::string_view help, double v) {
    family(name, type, help);
    sample(name, {}, v);
  }
  std::string& out() { return out_; }

private:
  std::string out_;
};

// Metric name from a snapshot key: "in-flight" -> "in_flight".
std::string metric_part(std::string_view key) {
  std::string out;
  for (char c : key)
    out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

bool is_loopback_default(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1";
}

struct http_error {
  int status;
  std::string message;
};

} // namespace

// ---- the console ------------------------------------------------------------------------------

struct console::impl {
  caf::actor_system& system;
  inspector_actor inspector;
  broker_actor broker;
  std::string node_name;
  std::string host;
  uint16_t port = 0;
  bool auth_required = false;
  std::string user;
  std::string password;
  std::vector<std::pair<std::string, std::string>> connectors; // configured: name, uri
  std::set<std::string> read_paths;                            // fixed GET routes
  std::string producer_id;
  std::atomic<uint64_t> producer_sequence{0};
  console_server server;
  std::thread thread;

  impl(caf::actor_system& sys, inspector_actor i, broker_actor b, console_connection_limits limits)
      : system(sys), inspector(std::move(i)), broker(std::move(b)), server(limits) {}

  // -- talking to the actors

  std::optional<caf::settings> tree(std::string& why) {
    caf::scoped_actor self{system};
    std::optional<caf::settings> out;
    self->request(inspector, snapshot_timeout, snapshot_atom::value)
        .receive(
            [&](caf::settings& s) { out = std::move(s); },
            [&](caf::error& err) { why = "the inspector did not answer: " + error_text(err); });
    return out;
  }

  std::optional<destination_stats_list> stats(std::string& why) {
    caf::scoped_actor self{system};
    std::optional<destination_stats_list> out;
    self->request(broker, stats_timeout, stats_atom::value)
        .receive([&](destination_stats_list& l) { out = std::move(l); },
                 [&](caf::error& err) { why = "the broker did not answer: " + error_text(err); });
    if (out)
      std::sort(
          out->begin(), out->end(),
          [](const destination_stats& a, const destination_stats& b) { return a.name < b.name; });
    return out;
  }

  // The canonical name of an existing queue, or an error (400 bad name, 404 unknown, 503).
  std::variant<std::string, http_error> existing_queue(const std::string& raw) {
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

  std::variant<queue_actor, http_error> queue_handle(const std::string& name) {
    caf::scoped_actor self{system};
    std::variant<queue_actor, http_error> out = http_error{503, "no answer"};
    self->request(broker, stats_timeout, lookup_atom::value, name)
        .receive([&](queue_actor& q) { out = std::move(q); },
                 [&](caf::error& err) { out = status_of(err); });
    return out;
  }

  static http_error status_of(const caf::error& err) {
    int status = 500;
    if (err.category() == error_category) {
      switch (static_cast<broker_errc>(err.code())) {
      case broker_errc::bad_destination:
        status = 400;
        break;
      case broker_errc::limit_exceeded:
        status = 429;
        break;
      case broker_errc::store_full:
        status = 507;
        break;
      case broker_errc::shutting_down:
        status = 503;
        break;
      case broker_errc::timeout:
        status = 504;
        break;
      default:
        break;
      }
    } else if (err == caf::sec::request_timeout) {
      status = 504;
    }
    return http_error{status, error_text(err)};
  }

  // -- responses

  static void set_json(httplib::Response& res, int status, std::string body) {
    res.status = status;
    res.set_header("Cache-Control", "no-store");
    res.set_content(std::move(body), "application/json; charset=utf-8");
  }

  static void set_error(httplib::Response& res, int status, const std::string& message) {
    json_writer w;
    w.begin_object().field("error", message).field("status", static_cast<int64_t>(status));
    w.end_object();
    set_json(res, status, std::move(w.out()));
  }

  static void set_error(httplib::Response& res, const http_error& e) {
    set_error(res, e.status, e.message);
  }

  // -- request checks

  // Basic auth (when required) and, without it, the Host header (a page of another site that
  // resolves its own name to 127.0.0.1 must not read the console: DNS rebinding).
  bool admitted(const httplib::Request& req, httplib::Response& res) {
    if (auth_required) {
      auto header = req.get_header_value("Authorization");
      bool ok = false;
      if (header.size() > 6 && (header.compare(0, 6, "Basic ") == 0)) {
        if (auto decoded = base64_decode(header.substr(6))) {
          auto colon = decoded->find(':');
          if (colon != std::string::npos)
            ok = same_secret(decoded->substr(0, colon), user) &
                 same_secret(decoded->substr(colon + 1), password);
        }
      }
      if (!ok) {
        res.set_header("WWW-Authenticate", "Basic realm=\"ActorMQ console\", charset=\"UTF-8\"");
        set_error(res, 401,
                  header.empty() ? "credentials required (HTTP Basic authentication)"
                                 : "wrong user or password");
        return false;
      }
      return true;
    }
    auto host_header = req.get_header_value("Host");
    const std::string p = ":" + std::to_string(port);
    if (host_header == "127.0.0.1" + p || host_header == "localhost" + p ||
        host_header == "[::1]" + p || host_header == host + p || host_header == "127.0.0.1" ||
        host_header == "localhost")
      return true;
    set_error(res, 421,
              "this console answers only requests addressed to 127.0.0.1" + p + " or localhost" +
                  p);
    return false;
  }

  // A GET route at a fixed path; method_allowed() knows it as read-only.
  void read_route(const char* path, httplib::Server::Handler handler) {
    read_paths.insert(path);
    server.Get(path, std::move(handler));
  }

  // The methods a path takes: "POST" for the actions, "GET, HEAD" for pages and reads, "" for
  // no such path. (Actions first: GET /api/queues/NAME/purge is an action asked with GET.)
  std::string allowed_methods(const std::string& path) const {
    static const std::regex action(R"(/api/queues/.+/(send|purge|delete))");
    static const std::regex queue_read(R"(/api/queues/.+)");
    if (std::regex_match(path, action))
      return "POST";
    if (read_paths.count(path) > 0 || std::regex_match(path, queue_read))
      return "GET, HEAD";
    return {};
  }

  // Whether the request's method suits its path: otherwise 405 with Allow (404 for a write to
  // no such path). A POST must say its body's length up front (411 otherwise; a body "until the
  // connection closes" would hold the connection until the request timeout), at most 1 MiB.
  bool method_allowed(const httplib::Request& req, httplib::Response& res) {
    const bool reads = req.method == "GET" || req.method == "HEAD";
    const bool post = req.method == "POST";
    const std::string allowed = allowed_methods(req.path);
    if (allowed.empty()) {
      if (reads)
        return true; // the router answers 404
      set_error(res, 404, "not found");
      return false;
    }
    if (allowed == "POST" ? !post : !reads) {
      res.set_header("Allow", allowed);
      set_error(res, 405,
                allowed == "POST" ? "this action changes state: use POST"
                                  : "this resource is read-only: use GET");
      return false;
    }
    if (!post)
      return true;
    if (!req.has_header("Content-Length")) {
      set_error(res, 411,
                "a POST needs a Content-Length (send a JSON body, for example {} with curl -d "
                "'{}')");
      return false;
    }
    const auto text = req.get_header_value("Content-Length");
    char* end = nullptr;
    const auto length = std::strtoull(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0') {
      set_error(res, 400, "bad Content-Length");
      return false;
    }
    if (length > max_body_bytes) {
      set_error(res, 413, "the request body is larger than 1 MiB");
      return false;
    }
    return true;
  }

  // State-changing requests carry JSON (or nothing) and no foreign Origin: a page of another
  // site cannot send them with a plain form.
  bool action_allowed(const httplib::Request& req, httplib::Response& res) {
    auto type = req.get_header_value("Content-Type");
    if (!req.body.empty() && type.rfind("application/json", 0) != 0) {
      set_error(res, 415, "the request body must be JSON (Content-Type: application/json)");
      return false;
    }
    if (req.body.empty() && !type.empty() && type.rfind("application/json", 0) != 0) {
      set_error(res, 415, "state-changing requests take Content-Type: application/json");
      return false;
    }
    auto origin = req.get_header_value("Origin");
    if (!origin.empty() && origin != "null") {
      auto slash = origin.find("://");
      auto origin_host = slash == std::string::npos ? origin : origin.substr(slash + 3);
      if (origin_host != req.get_header_value("Host")) {
        set_error(res, 403, "cross-origin requests are refused");
        return false;
      }
    }
    return true;
  }

  // -- handlers

  void overview(httplib::Response& res) {
    std::string why;
    auto t = tree(why);
    if (!t)
      return set_error(res, 503, why);
    json_writer w;
    w.begin_object();
    const caf::settings empty;
    auto node = get_dict(*t, "node");
    auto store = get_dict(*t, "store");
    auto broker_s = get_dict(*t, "broker");
    auto acceptor = get_dict(*t, "acceptor");
    const auto& n = node ? *node : empty;
    const auto& s = store ? *store : empty;
    w.field("node", get_str(n, "name").empty() ? node_name : get_str(n, "name"));
    w.field("role", get_str(n, "role"));
    w.field("uptime_ms", get_int(n, "uptime-ms"));
    w.field("client_port", get_int(n, "client-port"));
    w.field("cluster_port", get_int(n, "cluster-port"));
    w.field("console_port", static_cast<int64_t>(port));
    w.field("data_dir", get_str(n, "data-dir"));
    w.key("store").begin_object();
    w.field("store_id", get_str(s, "store-id"));
    auto map_size = get_int(s, "map-size");
    auto used = get_int(s, "used-bytes");
    w.field("map_size_bytes", map_size);
    w.field("used_bytes", used);
    w.field("used_percent", map_size > 0 ? 100.0 * static_cast<double>(used) / map_size : 0.0);
    w.field("commits", get_int(s, "commits"));
    w.field("operations", get_int(s, "operations"));
    w.field("last_batch", get_int(s, "last-batch"));
    w.field("max_batch", get_int(s, "max-batch"));
    w.field("mean_batch", get_real(s, "mean-batch"));
    w.field("last_commit_ms", get_real(s, "last-commit-ms"));
    w.field("readers", get_int(s, "readers"));
    w.field("open_readers", get_int(s, "open-readers"));
    w.field("last_txn", get_int(s, "last-txn"));
    w.field("oldest_reader_pid", get_int(s, "oldest-reader-pid"));
    w.field("oldest_reader_txn", get_int(s, "oldest-reader-txn"));
    w.field("oldest_reader_lag", get_int(s, "oldest-reader-lag"));
    w.field("failed_commits", get_int(s, "failed-commits"));
    w.field("answered", get_str(s, "kind") == "store");
    w.end_object();
    w.field("destinations", broker_s ? get_int(*broker_s, "destinations") : 0);
    w.field("connections", acceptor ? get_int(*acceptor, "sessions") : 0);
    auto bridges = get_dict(*t, "bridges");
    w.field("bridges", static_cast<int64_t>(bridges ? bridges->size() : 0));
    w.end_object();
    set_json(res, 200, std::move(w.out()));
  }

  static void write_stats(json_writer& w, const destination_stats& s) {
    w.begin_object();
    w.field("name", s.name);
    w.field("pending", s.pending);
    w.field("consumers", s.consumers);
    w.field("enqueued", s.enqueued);
    w.field("dequeued", s.dequeued);
    w.field("in_flight", s.in_flight);
    w.field("duplicates_dropped", s.duplicates_dropped);
    w.field("memory_bytes", s.memory_bytes);
    w.field("flow_controlled", s.flow_controlled);
    w.end_object();
  }

  void queues(httplib::Response& res) {
    std::string why;
    auto list = stats(why);
    if (!list)
      return set_error(res, 503, why);
    json_writer w;
    w.begin_object().key("queues").begin_array();
    for (auto& s : *list)
      write_stats(w, s);
    w.end_array().end_object();
    set_json(res, 200, std::move(w.out()));
  }

  void queue(const std::string& raw, httplib::Response& res) {
    auto name = protocol::canonical_destination(raw);
    if (!name)
      return set_error(res, 400, name.message());
    std::string why;
    auto list = stats(why);
    if (!list)
      return set_error(res, 503, why);
    for (auto& s : *list) {
      if (s.name == *name) {
        json_writer w;
        write_stats(w, s);
        return set_json(res, 200, std::move(w.out()));
      }
    }
    set_error(res, 404, "no such queue: " + *name);
  }

  void browse(const std::string& raw, const httplib::Request& req, httplib::Response& res) {
    uint32_t max = default_browse;
    if (req.has_param("max")) {
      auto text = req.get_param_value("max");
      char* end = nullptr;
      unsigned long v = std::strtoul(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || v == 0 || v > max_browse)
        return set_error(res, 400, "max must be a number from 1 to " + std::to_string(max_browse));
      max = static_cast<uint32_t>(v);
    }
    auto name = existing_queue(raw);
    if (auto e = std::get_if<http_error>(&name))
      return set_error(res, *e);
    auto q = queue_handle(std::get<std::string>(name));
    if (auto e = std::get_if<http_error>(&q))
      return set_error(res, *e);
    caf::scoped_actor self{system};
    std::optional<delivery_list> list;
    http_error failed{504, "no answer"};
    self->request(std::get<queue_actor>(q), action_timeout, browse_atom::value, max)
        .receive([&](delivery_list& l) { list = std::move(l); },
                 [&](caf::error& err) { failed = status_of(err); });
    if (!list)
      return set_error(res, failed);
    json_writer w;
    w.begin_object().field("queue", std::get<std::string>(name)).key("messages").begin_array();
    for (auto& d : *list) {
      wire::Message m;
      bool parsed = m.ParseFromString(d.payload);
      w.begin_object();
      w.field("key", d.key);
      w.field("redelivered", d.redelivered);
      w.field("delivery_count", static_cast<uint64_t>(d.delivery_count));
      if (!parsed) {
        w.field("error", "the stored message does not parse");
        w.end_object();
        continue;
      }
      const std::string& body = m.body();
      w.field("body", std::string_view(body).substr(0, max_shown_body));
      w.field("body_bytes", static_cast<uint64_t>(body.size()));
      w.field("body_truncated", body.size() > max_shown_body);
      w.field("persistent", m.persistent());
      w.field("priority", static_cast<int64_t>(m.priority()));
      w.field("timestamp_ms", static_cast<int64_t>(m.timestamp_ms()));
      w.field("expiration_ms", static_cast<int64_t>(m.expiration_ms()));
      w.field("producer_id", m.producer_id());
      w.field("producer_sequence", static_cast<uint64_t>(m.producer_sequence()));
      w.key("properties").begin_object();
      std::map<std::string, std::string> props(m.properties().begin(), m.properties().end());
      for (auto& [k, v] : props)
        w.field(k, v);
      w.end_object();
      w.end_object();
    }
    w.end_array().end_object();
    set_json(res, 200, std::move(w.out()));
  }

  void send(const std::string& raw, const httplib::Request& req, httplib::Response& res) {
    if (req.body.size() > max_body_bytes)
      return set_error(res, 413, "the request body is larger than 1 MiB");
    json_parser parser(req.body);
    auto parsed = parser.parse();
    if (!parsed)
      return set_error(res, 400, "malformed JSON: " + parser.error());
    auto obj = std::get_if<std::shared_ptr<json_value::object>>(&parsed->v);
    if (!obj)
      return set_error(res, 400, "expected a JSON object such as {\"body\": \"text\"}");
    std::string body;
    bool persistent = true;
    int32_t priority = 4;
    double count = 1;
    for (auto& [k, v] : **obj) {
      if (k == "body") {
        auto s = std::get_if<std::string>(&v.v);
        if (!s)
          return set_error(res, 400, "body must be a string");
        body = *s;
      } else if (k == "persistent") {
        auto b = std::get_if<bool>(&v.v);
        if (!b)
          return set_error(res, 400, "persistent must be true or false");
        persistent = *b;
      } else if (k == "priority") {
        auto d = std::get_if<double>(&v.v);
        if (!d || *d < 0 || *d > 9 || std::floor(*d) != *d)
          return set_error(res, 400, "priority must be an integer from 0 to 9");
        priority = static_cast<int32_t>(*d);
      } else if (k == "count") {
        auto d = std::get_if<double>(&v.v);
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
      wire::Message m;
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
      incoming_message in;
      in.persistent = persistent;
      in.priority = priority;
      in.producer_id = m.producer_id();
      in.producer_sequence = m.producer_sequence();
      m.SerializeToString(&in.payload);
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
    json_writer w;
    w.begin_object()
        .field("queue", *name)
        .field("sent", sent)
        .field("duplicates", duplicates)
        .end_object();
    set_json(res, 200, std::move(w.out()));
  }

  // An action answered with a count (purge, delete), or the HTTP error its failure maps to.
  template <class Handle, class... Ts>
  std::variant<uint64_t, http_error> ask_count(const Handle& target, Ts&&... xs) {
    caf::scoped_actor self{system};
    std::variant<uint64_t, http_error> out = http_error{504, "no answer"};
    self->request(target, action_timeout, std::forward<Ts>(xs)...)
        .receive([&](uint64_t n) { out = n; }, [&](caf::error& err) { out = status_of(err); });
    return out;
  }

  void purge(const std::string& raw, httplib::Response& res) {
    auto name = existing_queue(raw);
    if (auto e = std::get_if<http_error>(&name))
      return set_error(res, *e);
    auto q = queue_handle(std::get<std::string>(name));
    if (auto e = std::get_if<http_error>(&q))
      return set_error(res, *e);
    auto removed = ask_count(std::get<queue_actor>(q), purge_atom::value);
    if (auto e = std::get_if<http_error>(&removed))
      return set_error(res, *e);
    spdlog::info("console purges {} ({} messages)", std::get<std::string>(name),
                 std::get<uint64_t>(removed));
    json_writer w;
    w.begin_object()
        .field("queue", std::get<std::string>(name))
        .field("purged", std::get<uint64_t>(removed))
        .end_object();
    set_json(res, 200, std::move(w.out()));
  }

  void remove(const std::string& raw, httplib::Response& res) {
    auto name = existing_queue(raw);
    if (auto e = std::get_if<http_error>(&name))
      return set_error(res, *e);
    auto removed = ask_count(broker, remove_atom::value, std::get<std::string>(name));
    if (auto e = std::get_if<http_error>(&removed))
      return set_error(res, *e);
    spdlog::info("console deletes {} ({} messages)", std::get<std::string>(name),
                 std::get<uint64_t>(removed));
    json_writer w;
    w.begin_object()
        .field("queue", std::get<std::string>(name))
        .field("deleted", true)
        .field("removed_messages", std::get<uint64_t>(removed))
        .end_object();
    set_json(res, 200, std::move(w.out()));
  }

  void connections(httplib::Response& res) {
    std::string why;
    auto t = tree(why);
    if (!t)
      return set_error(res, 503, why);
    json_writer w;
    w.begin_object().key("connections").begin_array();
    if (auto sessions = get_dict(*t, "sessions")) {
      for (auto& [id, v] : *sessions) {
        auto s = caf::get_if<caf::settings>(&v.get_data());
        if (!s)
          continue;
        w.begin_object();
        w.field("actor_id", id);
        w.field("answered", get_str(*s, "kind") == "session");
        w.field("session_id", get_int(*s, "id"));
        w.field("peer", get_str(*s, "peer"));
        w.field("client_id", get_str(*s, "client-id"));
        w.field("consumers", get_int(*s, "consumers"));
        w.field("messages_in", get_int(*s, "messages-in"));
        w.field("deliveries_out", get_int(*s, "deliveries-out"));
        w.field("acks_in", get_int(*s, "acks-in"));
        w.field("unanswered_sends", get_int(*s, "unanswered-sends"));
        w.field("reading_halted", caf::get_or(*s, "reading-halted", false));
        if (get_str(*s, "kind") != "session")
          w.field("error", get_str(*s, "error"));
        w.end_object();
      }
    }
    w.end_array();
    if (auto a = get_dict(*t, "acceptor")) {
      w.field("accepted", get_int(*a, "accepted"));
      w.field("refused", get_int(*a, "refused"));
    }
    w.end_object();
    set_json(res, 200, std::move(w.out()));
  }

  void bridges(httplib::Response& res) {
    std::string why;
    auto t = tree(why);
    if (!t)
      return set_error(res, 503, why);
    json_writer w;
    w.begin_object().key("bridges").begin_array();
    if (auto b = get_dict(*t, "bridges")) {
      for (auto& [id, v] : *b) {
        w.begin_object().field("actor_id", id).key("state");
        write_value(w, v);
        w.end_object();
      }
    }
    w.end_array().key("configured").begin_array();
    for (auto& [name, uri] : connectors)
      w.begin_object().field("name", name).field("uri", uri).end_object();
    w.end_array().end_object();
    set_json(res, 200, std::move(w.out()));
  }

  void actors(httplib::Response& res) {
    std::string why;
    auto t = tree(why);
    if (!t)
      return set_error(res, 503, why);
    json_writer w;
    write_settings(w, *t);
    set_json(res, 200, std::move(w.out()));
  }

  void health(httplib::Response& res) {
    std::string why;
    auto t = tree(why);
    json_writer w;
    w.begin_object().field("node", node_name);
    if (!t) {
      w.field("status", "unavailable").field("reason", why).end_object();
      return set_json(res, 503, std::move(w.out()));
    }
    std::string reason;
    const char* parts[] = {"node", "store", "broker", "acceptor"};
    for (auto part : parts) {
      auto d = get_dict(*t, part);
      if (!d) {
        reason = std::string("the ") + part + " is missing";
        break;
      }
      if (get_str(*d, "kind") == "unanswered") {
        reason = std::string("the ") + part + " does not answer: " + get_str(*d, "error");
        break;
      }
    }
    auto node = get_dict(*t, "node");
    std::string role = node ? get_str(*node, "role") : "";
    if (reason.empty() && role != "master")
      reason = "the node is not master (role " + role + ")";
    if (reason.empty() && node && get_int(*node, "client-port") == 0)
      reason = "the client port is not open";
    if (reason.empty()) {
      if (auto store = get_dict(*t, "store"); store && get_int(*store, "failed-commits") > 0)
        w.field("warning", "the store has failed commits: " +
                               std::to_string(get_int(*store, "failed-commits")));
    }
    w.field("status", reason.empty() ? "ready" : "not ready");
    w.field("role", role);
    if (node)
      w.field("uptime_ms", get_int(*node, "uptime-ms"));
    if (!reason.empty())
      w.field("reason", reason);
    w.end_object();
    set_json(res, reason.empty() ? 200 : 503, std::move(w.out()));
  }

  void metrics(httplib::Response& res) {
    std::string why;
    auto list = stats(why);
    auto t = tree(why);
    if (!list || !t)
      return set_error(res, 503, why);
    metrics_writer m;
    const caf::settings empty;
    auto node = get_dict(*t, "node");
    const auto& n = node ? *node : empty;
    m.single("actormq_up", "gauge", "1 while the console can reach the node's actors.", 1);
    m.single("actormq_master", "gauge", "1 when this node holds the store's lock (master).",
             get_str(n, "role") == "master" ? 1 : 0);
    m.single("actormq_uptime_seconds", "gauge", "Seconds since the node process started.",
             static_cast<double>(get_int(n, "uptime-ms")) / 1000.0);
    struct dest_metric {
      const char* name;
      const char* type;
      const char* help;
      uint64_t destination_stats::*field;
    };
    const dest_metric dest[] = {
        {"actormq_destination_pending", "gauge", "Messages waiting for a consumer.",
         &destination_stats::pending},
        {"actormq_destination_in_flight", "gauge",
         "Messages dispatched to consumers and not yet acknowledged.",
         &destination_stats::in_flight},
        {"actormq_destination_consumers", "gauge", "Consumers of the destination.",
         &destination_stats::consumers},
        {"actormq_destination_memory_bytes", "gauge",
         "Bytes of message bodies the destination holds in memory.",
         &destination_stats::memory_bytes},
        {"actormq_destination_enqueued_total", "counter",
         "Messages the destination accepted since the store was created.",
         &destination_stats::enqueued},
        {"actormq_destination_dequeued_total", "counter",
         "Messages acknowledged (or purged) since the store was created.",
         &destination_stats::dequeued},
        {"actormq_destination_duplicates_dropped_total", "counter",
         "Resent messages recognised as duplicates and not stored twice (since the node "
         "started).",
         &destination_stats::duplicates_dropped},
    };
    for (auto& d : dest) {
      m.family(d.name, d.type, d.help);
      for (auto& s : *list)
        m.sample(d.name, "destination=\"" + label(s.name) + "\"",
                 static_cast<double>(s.*(d.field)));
    }
    m.family("actormq_destination_flow_controlled", "gauge",
             "1 while producers of the destination are held back (memory limit).");
    for (auto& s : *list)
      m.sample("actormq_destination_flow_controlled", "destination=\"" + label(s.name) + "\"",
               s.flow_controlled ? 1 : 0);
    m.single("actormq_destinations", "gauge", "Destinations of the node.",
             static_cast<double>(list->size()));

    auto store = get_dict(*t, "store");
    const auto& s = store ? *store : empty;
    m.single("actormq_store_map_size_bytes", "gauge", "Size of the LMDB map (store.max_size_mb).",
             get_real(s, "map-size"));
    m.single("actormq_store_used_bytes", "gauge", "Bytes of the map in use.",
             get_real(s, "used-bytes"));
    m.single("actormq_store_commits_total", "counter", "Store transactions committed.",
             get_real(s, "commits"));
    m.single("actormq_store_operations_total", "counter",
             "Operations (puts, deletes, ...) committed.", get_real(s, "operations"));
    m.single("actormq_store_failed_commits_total", "counter", "Store commits that failed.",
             get_real(s, "failed-commits"));
    m.single("actormq_store_last_batch_size", "gauge", "Operations in the last commit.",
             get_real(s, "last-batch"));
    m.single("actormq_store_max_batch_size", "gauge", "Most operations in one commit so far.",
             get_real(s, "max-batch"));
    m.single("actormq_store_mean_batch_size", "gauge", "Mean operations per commit.",
             get_real(s, "mean-batch"));
    m.single("actormq_store_last_commit_milliseconds", "gauge",
             "Duration of the last commit (with its sync).", get_real(s, "last-commit-ms"));
    m.single("actormq_store_readers", "gauge", "LMDB reader slots taken (high-water mark).",
             get_real(s, "readers"));
    m.single("actormq_store_open_readers", "gauge", "Read transactions open on the store now.",
             get_real(s, "open-readers"));
    m.single("actormq_store_oldest_reader_lag_transactions", "gauge",
             "Commits made since the snapshot of the oldest open reader (0 if none); pages "
             "freed since then cannot be reused.",
             get_real(s, "oldest-reader-lag"));
    m.single("actormq_store_waiting_operations", "gauge", "Operations waiting for the next commit.",
             get_real(s, "waiting-operations"));

    auto acceptor = get_dict(*t, "acceptor");
    const auto& a = acceptor ? *acceptor : empty;
    m.single("actormq_sessions", "gauge", "Open client connections (sessions).",
             get_real(a, "sessions"));
    m.single("actormq_connections_accepted_total", "counter", "Client connections accepted.",
             get_real(a, "accepted"));
    m.single("actormq_connections_refused_total", "counter",
             "Client connections refused (limits.max_connections).", get_real(a, "refused"));

    // Bridges: every number a bridge's snapshot holds, labelled by the bridge.
    if (auto b = get_dict(*t, "bridges"); b && !b->empty()) {
      std::map<std::string, std::vector<std::pair<std::string, double>>> families;
      for (auto& [id, v] : *b) {
        auto bs = caf::get_if<caf::settings>(&v.get_data());
        if (!bs)
          continue;
        std::string name = get_str(*bs, "name");
        std::string labels = "bridge=\"" + label(name.empty() ? id : name) + "\"";
        if (auto peer = get_str(*bs, "peer"); !peer.empty())
          labels += ",peer=\"" + label(peer) + "\"";
        for (auto& [k, x] : *bs) {
          auto& data = x.get_data();
          double value = 0;
          if (auto i = caf::get_if<int64_t>(&data))
            value = static_cast<double>(*i);
          else if (auto r = caf::get_if<double>(&data))
            value = *r;
          else if (auto bo = caf::get_if<bool>(&data))
            value = *bo ? 1 : 0;
          else
            continue;
          families["actormq_bridge_" + metric_part(k)].emplace_back(labels, value);
        }
      }
      for (auto& [fam, samples] : families) {
        m.family(fam, "gauge", "A bridge's snapshot value (see docs/console.md).");
        for (auto& [labels, value] : samples)
          m.sample(fam, labels, value);
      }
    }
    res.status = 200;
    res.set_header("Cache-Control", "no-store");
    res.set_content(std::move(m.out()), "text/plain; version=0.0.4; charset=utf-8");
  }

  void routes() {
    auto& s = server;
    s.set_default_headers(
        {{"X-Content-Type-Options", "nosniff"},
         {"X-Frame-Options", "DENY"},
         {"Referrer-Policy", "no-referrer"},
         {"Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; "
                                     "connect-src 'self'; img-src 'self'; frame-ancestors 'none'; "
                                     "base-uri 'none'; form-action 'none'"}});
    // Before any body is read: who asks, and whether the path takes the method (a request
    // answered here may carry a body nobody read, so its connection closes after the answer).
    s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (admitted(req, res) && method_allowed(req, res))
        return httplib::Server::HandlerResponse::Unhandled;
      if (req.has_header("Transfer-Encoding") ||
          (req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0")) {
        res.set_header("Connection", "close");
        console_server::close_after_response();
      }
      return httplib::Server::HandlerResponse::Handled;
    });
    s.set_error_handler([this](const httplib::Request&, httplib::Response& res) {
      if (console_server::request_timed_out()) {
        res.set_header("Connection", "close");
        return set_error(res, 408,
                         "the request did not arrive complete within " +
                             std::to_string(server.limits().request_timeout.count()) + " ms");
      }
      if (res.body.empty())
        set_error(res, res.status,
                  res.status == 404 ? "not found" : "HTTP " + std::to_string(res.status));
    });
    s.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
          std::string what = "internal error";
          try {
            if (ep)
              std::rethrow_exception(ep);
          } catch (const std::exception& e) {
            what = std::string("internal error: ") + e.what();
          } catch (...) {
          }
          set_error(res, 500, what);
        });

    auto page = [this](const char* path, const char* content, const char* type) {
      read_route(path, [content, type](const httplib::Request&, httplib::Response& res) {
        res.set_header("Cache-Control", "no-cache");
        res.set_content(content, type);
      });
    };
    page("/", pages::overview_html, "text/html; charset=utf-8");
    page("/index.html", pages::overview_html, "text/html; charset=utf-8");
    page("/queues.html", pages::queues_html, "text/html; charset=utf-8");
    page("/connections.html", pages::connections_html, "text/html; charset=utf-8");
    page("/bridges.html", pages::bridges_html, "text/html; charset=utf-8");
    page("/console.js", pages::console_js, "text/javascript; charset=utf-8");
    page("/console.css", pages::console_css, "text/css; charset=utf-8");

    read_route("/health", [this](const httplib::Request&, httplib::Response& res) { health(res); });
    read_route("/metrics",
               [this](const httplib::Request&, httplib::Response& res) { metrics(res); });
    read_route("/api/overview",
               [this](const httplib::Request&, httplib::Response& res) { overview(res); });
    read_route("/api/queues",
               [this](const httplib::Request&, httplib::Response& res) { queues(res); });
    read_route("/api/connections",
               [this](const httplib::Request&, httplib::Response& res) { connections(res); });
    read_route("/api/bridges",
               [this](const httplib::Request&, httplib::Response& res) { bridges(res); });
    read_route("/api/actors",
               [this](const httplib::Request&, httplib::Response& res) { actors(res); });

    // Actions: POST only (method_allowed answers every other method with 405).
    s.Post(R"(/api/queues/(.+)/send)", [this](const httplib::Request& req, httplib::Response& res) {
      if (action_allowed(req, res))
        send(req.matches[1], req, res);
    });
    s.Post(R"(/api/queues/(.+)/purge)",
           [this](const httplib::Request& req, httplib::Response& res) {
             if (action_allowed(req, res))
               purge(req.matches[1], res);
           });
    s.Post(R"(/api/queues/(.+)/delete)",
           [this](const httplib::Request& req, httplib::Response& res) {
             if (action_allowed(req, res))
               remove(req.matches[1], res);
           });
    s.Get(R"(/api/queues/(.+)/messages)",
          [this](const httplib::Request& req, httplib::Response& res) {
            browse(req.matches[1], req, res);
          });
    s.Get(R"(/api/queues/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
      queue(req.matches[1], res);
    });
  }
};

console::console(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

console::~console() {
  if (!impl_)
    return;
  impl_->server.halt();
  if (impl_->thread.joinable())
    impl_->thread.join();
}

uint16_t console::port() const {
  return impl_->port;
}

result<std::unique_ptr<console>> console::start(caf::actor_system& system,
                                                const config::NodeConfig& config,
                                                inspector_actor inspector, broker_actor broker) {
  console_connection_limits limits;
  limits.max_connections = config.limits().console_max_connections();
  limits.request_timeout = std::chrono::milliseconds(config.limits().console_request_timeout_ms());
  auto p = std::make_unique<impl>(system, std::move(inspector), std::move(broker), limits);
  p->node_name = config.name();
  p->host = config.console().host();
  const auto& auth = config.console_auth();
  p->user = auth.user();
  p->password = auth.password();
  const bool has_credentials = !p->user.empty() && !p->password.empty();
  const std::string where = p->host + ":" + std::to_string(config.console().port());
  if ((auth.has_user() || auth.has_password()) && !has_credentials)
    return failure{std::make_error_code(std::errc::invalid_argument),
                   "console_auth needs both a user and a password (the console on " + where +
                       " was not started)"};
  if (!is_loopback_default(p->host) && !has_credentials)
    return failure{std::make_error_code(std::errc::permission_denied),
                   "the console binds " + where +
                       ", which is not 127.0.0.1, localhost or ::1: set console_auth { user: "
                       "\"...\" password: \"...\" } in the configuration (every request then "
                       "needs them)"};
  p->auth_required = has_credentials;
  for (auto& c : config.network_connectors())
    p->connectors.emplace_back(c.name(), c.uri());
  std::random_device rd;
  char id[32];
  std::snprintf(id, sizeof id, "console-%08x%08x", rd(), rd());
  p->producer_id = id;

  p->server.set_payload_max_length(max_body_bytes + 1);
  p->routes();
  if (!p->server.open(p->host, static_cast<int>(config.console().port())))
    return failure{std::make_error_code(std::errc::address_in_use),
                   "cannot open the console port " + where +
                       " (in use, or not an address of this machine)"};
  p->port = static_cast<uint16_t>(config.console().port());
  auto* server = &p->server;
  p->thread = std::thread([server] { server->listen_after_bind(); });
  // halt() can stop only a server that listens: wait for the accept loop to start.
  for (int i = 0; i < 2000 && !server->is_running(); ++i)
    std::this_thread::sleep_for(1ms);
  spdlog::info("console on http://{}:{}/ ({})", p->host, p->port,
               p->auth_required ? "HTTP Basic authentication required" : "no authentication");
  return std::unique_ptr<console>(new console(std::move(p)));
}

} // namespace actormq::actors
