// The configuration loader: defaults, then the file (strict Protobuf text format), then
// command-line overrides (by reflection), then validation and path resolution.
#include "config/loader.hpp"

#include "common/parse_bool.hpp"
#include "config/defaults.hpp"
#include "protocol/destination.hpp"
#include "protocol/destination_pattern.hpp"
#include "protocol/session_codec.hpp"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/message.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <set>
#include <string_view>
#include <type_traits>
#include <vector>

namespace actormq::config {

namespace {

namespace pb = google::protobuf;

class category_impl : public std::error_category {
public:
  const char* name() const noexcept override { return "actormq.config"; }
  std::string message(int code) const override {
    switch (static_cast<config_errc>(code)) {
    case config_errc::ok:
      return "ok";
    case config_errc::unreadable:
      return "the configuration file cannot be read";
    case config_errc::syntax:
      return "the configuration file does not parse";
    case config_errc::out_of_range:
      return "a configuration value is out of range";
    case config_errc::missing:
      return "a required configuration key is not set";
    case config_errc::bad_override:
      return "a command-line override does not parse";
    }
    return "unknown configuration error " + std::to_string(code);
  }
};

failure fail(config_errc code, std::string what) {
  return failure{make_error_code(code), std::move(what)};
}

std::string in_quotes(std::string_view s) {
  std::string out = "\"";
  out.append(s);
  out += '"';
  return out;
}

// ---- reading and parsing ------------------------------------------------------------------

result<std::string> read_file(const std::filesystem::path& file) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(file.c_str(), "rb"), &std::fclose);
  if (!f) {
    int err = errno;
    return fail(config_errc::unreadable,
                file.string() + ": cannot open configuration file: " + std::strerror(err));
  }
  std::string text;
  char buf[8192];
  for (;;) {
    size_t n = std::fread(buf, 1, sizeof buf, f.get());
    text.append(buf, n);
    if (n < sizeof buf) {
      if (std::ferror(f.get())) {
        int err = errno;
        return fail(config_errc::unreadable,
                    file.string() + ": cannot read configuration file: " + std::strerror(err));
      }
      break;
    }
  }
  return text;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// What a field takes, for people: "an unsigned 32-bit integer, 0..4294967295".
std::string describe_type(const pb::FieldDescriptor* f) {
  switch (f->cpp_type()) {
  case pb::FieldDescriptor::CPPTYPE_STRING:
    return "a string in double quotes";
  case pb::FieldDescriptor::CPPTYPE_BOOL:
    return "true or false";
  case pb::FieldDescriptor::CPPTYPE_UINT32:
    return "an unsigned 32-bit integer, 0..4294967295";
  case pb::FieldDescriptor::CPPTYPE_UINT64:
    return "an unsigned 64-bit integer, 0..18446744073709551615";
  case pb::FieldDescriptor::CPPTYPE_INT32:
    return "a 32-bit integer";
  case pb::FieldDescriptor::CPPTYPE_INT64:
    return "a 64-bit integer";
  case pb::FieldDescriptor::CPPTYPE_MESSAGE:
    return "a block of settings in { }";
  default:
    return std::string("a value of type ") + f->type_name();
  }
}

// What every field named NAME in the schema takes, if they all take the same; else empty.
std::string describe_key(const std::string& name) {
  std::string found;
  bool ambiguous = false;
  std::vector<const pb::Descriptor*> todo{NodeConfig::descriptor()};
  std::vector<const pb::Descriptor*> seen;
  while (!todo.empty()) {
    const pb::Descriptor* d = todo.back();
    todo.pop_back();
    if (std::find(seen.begin(), seen.end(), d) != seen.end())
      continue;
    seen.push_back(d);
    for (int i = 0; i < d->field_count(); ++i) {
      const pb::FieldDescriptor* f = d->field(i);
      if (f->message_type() != nullptr)
        todo.push_back(f->message_type());
      if (f->name() != name)
        continue;
      std::string type = describe_type(f);
      if (!found.empty() && found != type)
        ambiguous = true;
      found = std::move(type);
    }
  }
  return ambiguous ? std::string{} : found;
}

// Keeps the parser's first error and makes it read well: 1-based line and column, pointing
// at the key or value at fault, naming the key and the type it takes where it can.
class first_error_collector : public pb::io::ErrorCollector {
public:
  void AddError(int line, pb::io::ColumnNumber column, const std::string& message) override {
    if (!seen_) {
      seen_ = true;
      line_ = line;
      column_ = column;
      message_ = message;
    }
  }
  void AddWarning(int, pb::io::ColumnNumber, const std::string&) override {}

  bool seen() const { return seen_; }

  // TEXT is what was parsed.
  void refine(const std::string& text) {
    if (!seen_ || line_ < 0)
      return;
    const std::string_view line = line_text(text);
    const size_t at = byte_of_column(line, column_);
    point_at_named_token(line, at);
    if (ends_with(message_, "got: -"))
      message_ += " (a negative number)";
    name_the_key(line, at);
    if (ends_with(message_, "got: "))
      message_ += "the end of the file (is a \"}\" missing?)";
  }

  std::string format(const std::string& file) const {
    if (line_ < 0)
      return file + ": " + message_;
    return file + ":" + std::to_string(line_ + 1) + ":" + std::to_string(column_ + 1) + ": " +
           message_;
  }

private:
  std::string_view line_text(const std::string& text) const {
    size_t begin = 0;
    for (int l = 0; l < line_; ++l) {
      begin = text.find('\n', begin);
      if (begin == std::string::npos)
        return {};
      ++begin;
    }
    const size_t end = std::min(text.find('\n', begin), text.size());
    return std::string_view(text).substr(begin, end - begin);
  }

  // The tokenizer advances a tab to the next multiple of 8 columns.
  static size_t byte_of_column(std::string_view line, pb::io::ColumnNumber column) {
    pb::io::ColumnNumber c = 0;
    size_t i = 0;
    for (; i < line.size() && c < column; ++i)
      c += line[i] == '\t' ? 8 - c % 8 : 1;
    return i;
  }
  static pb::io::ColumnNumber column_of_byte(std::string_view line, size_t byte) {
    pb::io::ColumnNumber c = 0;
    for (size_t i = 0; i < byte && i < line.size(); ++i)
      c += line[i] == '\t' ? 8 - c % 8 : 1;
    return c;
  }

  // The parser reports some errors (unknown field, bad value) after it consumed the token at
  // fault. When the message quotes a name that occurs earlier on the reported line, point at
  // that name instead, so the column shows the key or value people must fix.
  void point_at_named_token(std::string_view line, size_t at) {
    const size_t close = message_.rfind('"');
    if (close == std::string::npos || close == 0)
      return;
    const size_t open = message_.rfind('"', close - 1);
    if (open == std::string::npos || close == open + 1)
      return;
    const std::string name = message_.substr(open + 1, close - open - 1);
    const size_t found = line.substr(0, at).rfind(name);
    if (found != std::string_view::npos)
      column_ = column_of_byte(line, found);
  }

  // For an error in a value ("key: value"), names the key and what it takes.
  void name_the_key(std::string_view line, size_t at) {
    const bool value_error = message_.rfind("Expected ", 0) == 0 ||
                             message_.rfind("Integer out of range", 0) == 0 ||
                             message_.rfind("Invalid value", 0) == 0;
    if (!value_error)
      return;
    std::string_view before = line.substr(0, at);
    while (!before.empty() && (before.back() == ' ' || before.back() == '\t'))
      before.remove_suffix(1);
    if (before.empty() || before.back() != ':')
      return;
    before.remove_suffix(1);
    while (!before.empty() && (before.back() == ' ' || before.back() == '\t'))
      before.remove_suffix(1);
    size_t start = before.size();
    while (start > 0 && (std::isalnum(static_cast<unsigned char>(before[start - 1])) ||
                         before[start - 1] == '_'))
      --start;
    const std::string key(before.substr(start));
    if (key.empty())
      return;
    const std::string type = describe_key(key);
    if (!type.empty())
      message_ += "; " + key + " takes " + type;
  }

  bool seen_ = false;
  int line_ = -1;
  pb::io::ColumnNumber column_ = -1;
  std::string message_;
};

result<NodeConfig> parse(const std::string& text, const std::string& file) {
  NodeConfig parsed;
  first_error_collector errors;
  pb::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  parser.AllowUnknownField(false);
  parser.AllowUnknownExtension(false);
  if (!parser.ParseFromString(text, &parsed)) {
    errors.refine(text);
    if (errors.seen())
      return fail(config_errc::syntax, errors.format(file));
    return fail(config_errc::syntax, file + ": the file does not parse");
  }
  return parsed;
}

// ---- overrides ----------------------------------------------------------------------------

std::string field_list(const pb::Descriptor* d) {
  std::string out;
  for (int i = 0; i < d->field_count(); ++i) {
    if (i > 0)
      out += ", ";
    out += d->field(i)->name();
  }
  return out;
}

template <class Int> bool parse_int(std::string_view text, Int& out, bool& overflow) {
  overflow = false;
  if (text.empty())
    return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec == std::errc::result_out_of_range && ptr == text.data() + text.size()) {
    overflow = true;
    return false;
  }
  return ec == std::errc{} && ptr == text.data() + text.size();
}

template <class Int> std::string int_type_name(const char* what) {
  return std::string(what) + " (" + std::to_string(std::numeric_limits<Int>::min()) + ".." +
         std::to_string(std::numeric_limits<Int>::max()) + ")";
}

// Sets (or, for a repeated field, appends) FIELD of MSG from TEXT, per the field's type.
// Returns an empty string on success, else what is wrong, naming PATH.
std::string set_from_string(pb::Message& msg, const pb::FieldDescriptor* field,
                            const std::string& path, std::string_view text) {
  const pb::Reflection* r = msg.GetReflection();
  const bool rep = field->is_repeated();
  auto expects = [&](const std::string& what) {
    return path + " expects " + what + ", got " + in_quotes(text);
  };
  auto ints = [&](auto type_tag, const char* type_name, auto set, auto add) -> std::string {
    using Int = decltype(type_tag);
    Int v{};
    bool overflow = false;
    if (!parse_int(text, v, overflow))
      return overflow ? path + ": " + std::string(text) + " is out of range for " +
                            int_type_name<Int>(type_name)
                      : expects(int_type_name<Int>(type_name));
    if (rep)
      (r->*add)(&msg, field, v);
    else
      (r->*set)(&msg, field, v);
    return {};
  };
  switch (field->cpp_type()) {
  case pb::FieldDescriptor::CPPTYPE_STRING:
    if (rep)
      r->AddString(&msg, field, std::string(text));
    else
      r->SetString(&msg, field, std::string(text));
    return {};
  case pb::FieldDescriptor::CPPTYPE_BOOL: {
    auto v = parse_bool(text);
    if (!v)
      return expects("a boolean (true or false)");
    if (rep)
      r->AddBool(&msg, field, *v);
    else
      r->SetBool(&msg, field, *v);
    return {};
  }
  case pb::FieldDescriptor::CPPTYPE_UINT32:
    return ints(uint32_t{}, "an unsigned 32-bit integer", &pb::Reflection::SetUInt32,
                &pb::Reflection::AddUInt32);
  case pb::FieldDescriptor::CPPTYPE_UINT64:
    return ints(uint64_t{}, "an unsigned 64-bit integer", &pb::Reflection::SetUInt64,
                &pb::Reflection::AddUInt64);
  case pb::FieldDescriptor::CPPTYPE_INT32:
    return ints(int32_t{}, "a 32-bit integer", &pb::Reflection::SetInt32,
                &pb::Reflection::AddInt32);
  case pb::FieldDescriptor::CPPTYPE_INT64:
    return ints(int64_t{}, "a 64-bit integer", &pb::Reflection::SetInt64,
                &pb::Reflection::AddInt64);
  case pb::FieldDescriptor::CPPTYPE_ENUM: {
    const pb::EnumValueDescriptor* v = field->enum_type()->FindValueByName(std::string(text));
    if (v == nullptr)
      return expects("one of the names of enum " + field->enum_type()->name());
    if (rep)
      r->AddEnum(&msg, field, v);
    else
      r->SetEnum(&msg, field, v);
    return {};
  }
  default:
    return path + " has a type that overrides do not support (set it in the file)";
  }
}

result<void> apply_override(NodeConfig& config, const std::string& item) {
  auto bad = [&](const std::string& why) {
    return fail(config_errc::bad_override, "override " + in_quotes(item) + ": " + why);
  };
  const auto eq = item.find('=');
  if (eq == std::string::npos || eq == 0)
    return bad("expected key.path=value (e.g. client.port=61700)");
  const std::string key = item.substr(0, eq);
  const std::string_view value = std::string_view(item).substr(eq + 1);

  pb::Message* msg = &config;
  std::string path;
  size_t start = 0;
  for (;;) {
    const size_t dot = key.find('.', start);
    const std::string part =
        key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    const pb::Descriptor* d = msg->GetDescriptor();
    const pb::FieldDescriptor* field = d->FindFieldByName(part);
    const std::string where = path.empty() ? std::string("the top level") : path;
    path += path.empty() ? part : "." + part;
    if (field == nullptr)
      return bad("unknown key " + in_quotes(path) + " (known at " + where + ": " + field_list(d) +
                 ")");
    const bool is_message = field->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE;
    if (dot == std::string::npos) {
      if (is_message)
        return bad(path + " is a group of settings (" + field_list(field->message_type()) +
                   "); override one of its fields, e.g. " + path + "." +
                   field->message_type()->field(0)->name() + "=...");
      const std::string problem = set_from_string(*msg, field, path, value);
      if (!problem.empty())
        return bad(problem);
      return {};
    }
    if (!is_message)
      return bad(path + " is not a group of settings; " + in_quotes(key) + " names nothing");
    if (field->is_repeated())
      return bad(path + " is a list of settings groups; its entries can only be set in the file");
    msg = msg->GetReflection()->MutableMessage(msg, field);
    start = dot + 1;
  }
}

// ---- merging and paths --------------------------------------------------------------------

NetworkConnector default_network_connector(size_t index) {
  NetworkConnector c;
  c.set_name(std::string(default_connector_name_prefix) + std::to_string(index));
  c.set_network_ttl(default_network_ttl);
  c.set_duplex(default_duplex);
  c.set_decrease_network_consumer_priority(default_decrease_network_consumer_priority);
  c.set_prefetch_size(default_connector_prefetch_size);
  c.set_replay_when_no_consumers(default_replay_when_no_consumers);
  c.set_replay_delay_ms(default_replay_delay_ms);
  c.set_dynamic_only(default_dynamic_only);
  c.set_conduit_subscriptions(default_conduit_subscriptions);
  c.set_max_reconnect_delay_ms(default_max_reconnect_delay_ms);
  return c;
}

// The stomp and ws listeners are off unless their block is there; a block takes the defaults it
// leaves out.
void fill_optional_listener_defaults(NodeConfig& config) {
  auto fill = [](Listener& l, uint32_t port) {
    if (!l.has_host())
      l.set_host(std::string(default_host));
    if (!l.has_port())
      l.set_port(port);
  };
  if (config.has_stomp())
    fill(*config.mutable_stomp(), default_stomp_port);
  if (config.has_ws())
    fill(*config.mutable_ws(), default_ws_port);
}

DestinationPolicy default_destination_policy() {
  DestinationPolicy p;
  p.set_maximum_redeliveries(default_maximum_redeliveries);
  p.set_initial_redelivery_delay_ms(default_initial_redelivery_delay_ms);
  p.set_redelivery_delay_ms(default_redelivery_delay_ms);
  p.set_use_exponential_back_off(default_use_exponential_back_off);
  p.set_back_off_multiplier(default_back_off_multiplier);
  p.set_maximum_redelivery_delay_ms(default_maximum_redelivery_delay_ms);
  p.set_dead_letter_strategy(std::string(default_dead_letter_strategy));
  p.set_dead_letter_queue(std::string(default_dead_letter_queue));
  p.set_queue_prefix(std::string(default_dead_letter_queue_prefix));
  p.set_process_expired(default_process_expired);
  p.set_process_non_persistent(default_process_non_persistent);
  p.set_expire_messages_period_ms(default_expire_messages_period_ms);
  return p;
}

void fill_policy_defaults(NodeConfig& config) {
  for (int i = 0; i < config.destination_policies_size(); ++i) {
    DestinationPolicy merged = default_destination_policy();
    merged.MergeFrom(config.destination_policies(i));
    *config.mutable_destination_policies(i) = std::move(merged);
  }
}

void fill_connector_defaults(NodeConfig& config) {
  for (int i = 0; i < config.network_connectors_size(); ++i) {
    NetworkConnector merged = default_network_connector(static_cast<size_t>(i));
    merged.MergeFrom(config.network_connectors(i));
    *config.mutable_network_connectors(i) = std::move(merged);
  }
}

std::string resolve(const std::filesystem::path& base, const std::string& p) {
  std::filesystem::path path(p);
  if (path.is_relative())
    path = base / path;
  return path.lexically_normal().string();
}

// ---- validation ---------------------------------------------------------------------------

template <class Int> std::string range_error(const std::string& key, Int value, Int lo, Int hi) {
  return key + ": " + std::to_string(value) + " is out of range (" + std::to_string(lo) + ".." +
         std::to_string(hi) + ")";
}

result<void> check_range(const std::string& key, uint64_t value, uint64_t lo, uint64_t hi) {
  if (value < lo || value > hi)
    return fail(config_errc::out_of_range, range_error(key, value, lo, hi));
  return {};
}

result<void> check_at_least(const std::string& key, uint64_t value, uint64_t lo) {
  if (value < lo)
    return fail(config_errc::out_of_range, key + ": " + std::to_string(value) +
                                               " is out of range (at least " + std::to_string(lo) +
                                               ")");
  return {};
}

result<void> check_one_of(const std::string& key, const std::string& value,
                          std::initializer_list<std::string_view> allowed) {
  std::string list;
  for (auto a : allowed) {
    if (value == a)
      return {};
    if (!list.empty())
      list += ", ";
    list.append(a);
  }
  return fail(config_errc::out_of_range,
              key + ": " + in_quotes(value) + " is not one of (" + list + ")");
}

// Only the client listener speaks a session protocol (the cluster port is CAF's, the console's
// HTTP).
result<void> check_listener(const std::string& key, const Listener& l, bool takes_protocol) {
  if (takes_protocol) {
    auto& known = protocol::session_protocols();
    if (std::find(known.begin(), known.end(), l.protocol()) == known.end()) {
      std::string names;
      for (auto& n : known)
        names += (names.empty() ? "\"" : ", \"") + n + "\"";
      return fail(config_errc::out_of_range,
                  key + ".protocol: \"" + l.protocol() +
                      "\" is not a protocol of this node (known: " + names + ")");
    }
  } else if (l.has_protocol()) {
    return fail(config_errc::out_of_range,
                key + ".protocol: only the client listener takes a protocol");
  }
  if (l.host().empty())
    return fail(config_errc::out_of_range,
                key + ".host: \"\" is empty (expected a host name or address)");
  return check_range(key + ".port", l.port(), min_port, max_port);
}

result<void> check_policy(const DestinationPolicy& p, const std::string& at) {
  if (!p.has_queue() || p.queue().empty())
    return fail(config_errc::missing,
                at + "queue: required key is not set (a queue name or pattern, \">\" for all)");
  auto pattern = protocol::parse_destination_pattern(p.queue());
  if (!pattern || pattern->text.rfind("queue://", 0) != 0)
    return fail(config_errc::out_of_range,
                at + "queue: " + in_quotes(p.queue()) + " is not a queue name or pattern" +
                    (pattern ? std::string() : ": " + pattern.message()));
  auto refuse = [&](const char* key, const std::string& value, const char* rule) {
    return fail(config_errc::out_of_range, at + key + ": " + value + " " + rule);
  };
  if (p.maximum_redeliveries() < -1)
    return refuse("maximum_redeliveries", std::to_string(p.maximum_redeliveries()),
                  "is out of range (-1 = no limit, or 0 and more)");
  if (p.initial_redelivery_delay_ms() < 0)
    return refuse("initial_redelivery_delay_ms", std::to_string(p.initial_redelivery_delay_ms()),
                  "is negative (a delay is 0 ms or more)");
  if (p.redelivery_delay_ms() < 0)
    return refuse("redelivery_delay_ms", std::to_string(p.redelivery_delay_ms()),
                  "is negative (a delay is 0 ms or more)");
  if (!(p.back_off_multiplier() >= 1) || !std::isfinite(p.back_off_multiplier()))
    return refuse("back_off_multiplier", std::to_string(p.back_off_multiplier()),
                  "is out of range (1 or more)");
  if (p.has_memory_limit_bytes() && p.memory_limit_bytes() < 1)
    return refuse("memory_limit_bytes", std::to_string(p.memory_limit_bytes()),
                  "is out of range (at least 1; leave it out for limits.destination_memory_bytes)");
  if (p.maximum_redelivery_delay_ms() < -1)
    return refuse("maximum_redelivery_delay_ms", std::to_string(p.maximum_redelivery_delay_ms()),
                  "is out of range (-1 = no maximum, or 0 ms and more)");
  if (auto ok = check_one_of(at + "dead_letter_strategy", p.dead_letter_strategy(),
                             {"shared", "individual"});
      !ok)
    return ok;
  if (auto q = protocol::parse_destination("queue://" + p.dead_letter_queue()); !q)
    return fail(config_errc::out_of_range,
                at + "dead_letter_queue: " + in_quotes(p.dead_letter_queue()) +
                    " is not a queue name: " + q.message());
  if (auto q = protocol::parse_destination("queue://" + p.queue_prefix() + "x"); !q)
    return fail(config_errc::out_of_range, at + "queue_prefix: " + in_quotes(p.queue_prefix()) +
                                               " cannot start a queue name: " + q.message());
  return {};
}

} // namespace

const std::error_category& config_category() {
  static const category_impl instance;
  return instance;
}

std::error_code make_error_code(config_errc e) {
  return {static_cast<int>(e), config_category()};
}

NodeConfig defaults() {
  NodeConfig c;
  c.mutable_client()->set_host(std::string(default_host));
  c.mutable_client()->set_port(default_client_port);
  c.mutable_client()->set_protocol(std::string(default_client_protocol));
  c.mutable_cluster()->set_host(std::string(default_host));
  c.mutable_cluster()->set_port(default_cluster_port);
  c.mutable_console()->set_host(std::string(default_host));
  c.mutable_console()->set_port(default_console_port);

  StoreConfig& store = *c.mutable_store();
  store.set_max_size_mb(default_store_max_size_mb);
  store.set_sync(default_store_sync);
  store.set_max_batch(default_store_max_batch);
  store.set_reader_check_interval_ms(default_store_reader_check_interval_ms);
  store.set_persist_redelivered(default_store_persist_redelivered);
  store.set_auto_ack_delay_ms(default_store_auto_ack_delay_ms);
  store.set_journal(default_store_journal);
  store.set_journal_size_mb(default_store_journal_size_mb);
  store.set_checkpoint_interval_ms(default_store_checkpoint_interval_ms);

  Limits& limits = *c.mutable_limits();
  limits.set_max_frame_bytes(default_max_frame_bytes);
  limits.set_max_connections(default_max_connections);
  limits.set_max_consumers_per_connection(default_max_consumers_per_connection);
  limits.set_max_destinations(default_max_destinations);
  limits.set_destination_memory_bytes(default_destination_memory_bytes);
  limits.set_default_prefetch(default_prefetch);
  limits.set_browse_max_messages(default_browse_max_messages);
  limits.set_console_max_connections(default_console_max_connections);
  limits.set_console_request_timeout_ms(default_console_request_timeout_ms);
  limits.set_console_history_interval_ms(default_console_history_interval_ms);
  limits.set_topic_subscriber_pending_messages(default_topic_subscriber_pending_messages);
  limits.set_offline_durable_subscriber_timeout_ms(default_offline_durable_subscriber_timeout_ms);
  limits.set_offline_durable_subscriber_task_schedule_ms(
      default_offline_durable_subscriber_task_schedule_ms);
  limits.set_max_transaction_messages(default_max_transaction_messages);
  limits.set_max_transaction_bytes(default_max_transaction_bytes);
  limits.set_send_fail_if_no_space(default_send_fail_if_no_space);
  limits.set_send_fail_if_no_space_after_timeout_ms(default_send_fail_if_no_space_after_timeout_ms);

  Heartbeats& hb = *c.mutable_heartbeats();
  hb.set_interval_ms(default_heartbeat_interval_ms);
  hb.set_inactivity_timeout_ms(default_inactivity_timeout_ms);
  hb.set_connect_timeout_ms(default_connect_timeout_ms);

  Runtime& rt = *c.mutable_runtime();
  rt.set_scheduler_policy(std::string(default_scheduler_policy));
  rt.set_scheduler_max_threads(default_scheduler_max_threads);
  rt.set_middleman_heartbeat_ms(default_middleman_heartbeat_ms);
  rt.set_middleman_connection_timeout_ms(default_middleman_connection_timeout_ms);

  c.mutable_logging()->set_level(std::string(default_log_level));
  // logging.file stays unset: standard error.

  c.mutable_virtual_topics()->set_name(std::string(default_virtual_topic_name));
  c.mutable_virtual_topics()->set_consumer_prefix(
      std::string(default_virtual_topic_consumer_prefix));

  c.set_stop_timeout_ms(default_stop_timeout_ms);
  c.set_scheduler_support(default_scheduler_support);
  return c;
}

result<NodeConfig> load(const std::filesystem::path& file,
                        const std::vector<std::string>& overrides) {
  auto text = read_file(file);
  if (!text)
    return text.error();
  auto parsed = parse(*text, file.string());
  if (!parsed)
    return parsed.error();

  NodeConfig config = defaults();
  config.MergeFrom(*parsed);
  for (const auto& item : overrides) {
    if (auto ok = apply_override(config, item); !ok)
      return ok.error();
  }
  fill_connector_defaults(config);
  fill_policy_defaults(config);
  fill_optional_listener_defaults(config);

  if (auto ok = validate(config); !ok)
    return failure{ok.code(), file.string() + ": " + ok.message()};

  std::error_code ec;
  const std::filesystem::path absolute_file = std::filesystem::absolute(file, ec);
  if (ec)
    return fail(config_errc::unreadable,
                file.string() + ": cannot make the path absolute: " + ec.message());
  const std::filesystem::path base = absolute_file.parent_path();
  config.set_data_dir(resolve(base, config.data_dir()));
  if (config.logging().has_file() && !config.logging().file().empty())
    config.mutable_logging()->set_file(resolve(base, config.logging().file()));
  return config;
}

result<void> validate(const NodeConfig& c) {
  if (!c.has_name() || c.name().empty())
    return fail(config_errc::missing, "name: required key is not set (the node's name)");
  if (!c.has_data_dir() || c.data_dir().empty())
    return fail(config_errc::missing,
                "data_dir: required key is not set (the folder for master.lock and store/)");

  if (auto ok = check_listener("client", c.client(), true); !ok)
    return ok;
  if (auto ok = check_listener("cluster", c.cluster(), false); !ok)
    return ok;
  if (auto ok = check_listener("console", c.console(), false); !ok)
    return ok;
  if (c.has_stomp())
    if (auto ok = check_listener("stomp", c.stomp(), false); !ok)
      return ok;
  if (c.has_ws())
    if (auto ok = check_listener("ws", c.ws(), false); !ok)
      return ok;
  std::vector<std::pair<const char*, uint32_t>> ports = {
      {"client.port", c.client().port()},
      {"cluster.port", c.cluster().port()},
      {"console.port", c.console().port()},
  };
  if (c.has_stomp())
    ports.emplace_back("stomp.port", c.stomp().port());
  if (c.has_ws())
    ports.emplace_back("ws.port", c.ws().port());
  for (size_t i = 0; i < ports.size(); ++i)
    for (size_t j = i + 1; j < ports.size(); ++j)
      if (ports[i].second == ports[j].second)
        return fail(config_errc::out_of_range,
                    std::string(ports[j].first) + ": " + std::to_string(ports[j].second) +
                        " is already " + ports[i].first +
                        " (the client, cluster, console, stomp and ws ports must differ)");
  std::set<std::string> usernames;
  for (int i = 0; i < c.users_size(); ++i) {
    auto& u = c.users(i);
    auto key = "users[" + std::to_string(i) + "]";
    if (u.username().empty())
      return fail(config_errc::missing, key + ".username: required key is not set (not empty)");
    if (!usernames.insert(u.username()).second)
      return fail(config_errc::out_of_range,
                  key + ".username: " + in_quotes(u.username()) + " is listed twice");
    if (!u.has_password())
      return fail(config_errc::missing, key + ".password: required key is not set");
  }

  if (auto ok = check_at_least("store.max_size_mb", c.store().max_size_mb(), min_store_max_size_mb);
      !ok)
    return ok;
  if (auto ok = check_at_least("store.max_batch", c.store().max_batch(), min_store_max_batch); !ok)
    return ok;
  if (auto ok = check_range("store.auto_ack_delay_ms", c.store().auto_ack_delay_ms(), 0,
                            max_store_auto_ack_delay_ms);
      !ok)
    return ok;
  if (auto ok = check_range("store.journal_size_mb", c.store().journal_size_mb(),
                            min_store_journal_size_mb, max_store_journal_size_mb);
      !ok)
    return ok;
  if (auto ok = check_range("store.checkpoint_interval_ms", c.store().checkpoint_interval_ms(),
                            min_store_checkpoint_interval_ms, max_store_checkpoint_interval_ms);
      !ok)
    return ok;
  if (auto ok = check_range("limits.max_frame_bytes", c.limits().max_frame_bytes(),
                            min_max_frame_bytes, max_max_frame_bytes);
      !ok)
    return ok;
  if (c.limits().default_prefetch() < min_default_prefetch)
    return fail(config_errc::out_of_range,
                "limits.default_prefetch: " + std::to_string(c.limits().default_prefetch()) +
                    " is out of range (at least " + std::to_string(min_default_prefetch) +
                    "; prefetch 0, where a consumer pulls each message, is not supported)");
  if (c.limits().topic_subscriber_pending_messages() < min_topic_subscriber_pending_messages)
    return fail(config_errc::out_of_range,
                "limits.topic_subscriber_pending_messages: " +
                    std::to_string(c.limits().topic_subscriber_pending_messages()) +
                    " is out of range (at least " +
                    std::to_string(min_topic_subscriber_pending_messages) + ")");
  if (c.limits().max_transaction_messages() < 1 || c.limits().max_transaction_bytes() < 1)
    return fail(config_errc::out_of_range,
                "limits.max_transaction_messages and limits.max_transaction_bytes: " +
                    std::to_string(c.limits().max_transaction_messages()) + " and " +
                    std::to_string(c.limits().max_transaction_bytes()) +
                    " are out of range (each at least 1)");
  if (auto ok = check_range("limits.send_fail_if_no_space_after_timeout_ms",
                            c.limits().send_fail_if_no_space_after_timeout_ms(), 0,
                            max_send_fail_if_no_space_after_timeout_ms);
      !ok)
    return ok;
  if (auto ok = check_range("limits.offline_durable_subscriber_task_schedule_ms",
                            c.limits().offline_durable_subscriber_task_schedule_ms(),
                            min_offline_durable_subscriber_task_schedule_ms,
                            max_offline_durable_subscriber_task_schedule_ms);
      !ok)
    return ok;
  if (auto ok = check_range("limits.console_max_connections", c.limits().console_max_connections(),
                            min_console_max_connections, max_console_max_connections);
      !ok)
    return ok;
  if (auto ok =
          check_range("limits.console_request_timeout_ms", c.limits().console_request_timeout_ms(),
                      min_console_request_timeout_ms, max_console_request_timeout_ms);
      !ok)
    return ok;
  if (auto ok = check_range("limits.console_history_interval_ms",
                            c.limits().console_history_interval_ms(),
                            min_console_history_interval_ms, max_console_history_interval_ms);
      !ok)
    return ok;
  if (auto ok = check_one_of("runtime.scheduler_policy", c.runtime().scheduler_policy(),
                             {"sharing", "stealing"});
      !ok)
    return ok;
  if (auto ok = check_range("runtime.scheduler_max_threads", c.runtime().scheduler_max_threads(),
                            min_scheduler_max_threads, max_scheduler_max_threads);
      !ok)
    return ok;
  if (auto ok = check_one_of("logging.level", c.logging().level(),
                             {"trace", "debug", "info", "warn", "error"});
      !ok)
    return ok;

  if (auto& vt = c.virtual_topics(); !vt.name().empty()) {
    if (auto p = protocol::parse_subscription_pattern("topic://" + vt.name()); !p)
      return fail(config_errc::out_of_range, "virtual_topics.name: " + p.message());
    auto& prefix = vt.consumer_prefix();
    auto p = protocol::parse_subscription_pattern("queue://" + prefix + "x");
    if (prefix.empty() || prefix.back() != '.' || !p || p->elements.back() != "x" ||
        std::count(p->elements.begin(), p->elements.end(), ">") > 0)
      return fail(config_errc::out_of_range,
                  "virtual_topics.consumer_prefix: " + in_quotes(prefix) +
                      " must be name elements each followed by '.' ('*' for any one), like "
                      "\"Consumer.*.\"" +
                      (p ? std::string() : ": " + p.message()));
  }

  for (int i = 0; i < c.network_connectors_size(); ++i) {
    const NetworkConnector& nc = c.network_connectors(i);
    const std::string key = "network_connectors[" + std::to_string(i) + "].uri";
    if (!nc.has_uri() || nc.uri().empty())
      return fail(config_errc::missing, key + ": required key is not set");
    if (nc.uri().rfind(network_connector_uri_scheme, 0) != 0)
      return fail(config_errc::out_of_range,
                  key + ": " + in_quotes(nc.uri()) + " must start with " +
                      in_quotes(network_connector_uri_scheme) + " (static:(tcp://host:port,...))");
    auto check_patterns = [&](const char* field, const auto& patterns) -> result<void> {
      for (int j = 0; j < patterns.size(); ++j)
        if (auto p = protocol::parse_destination_pattern(patterns.Get(j)); !p)
          return fail(config_errc::out_of_range, "network_connectors[" + std::to_string(i) + "]." +
                                                     field + "[" + std::to_string(j) +
                                                     "]: " + p.message());
      return {};
    };
    const std::string at = "network_connectors[" + std::to_string(i) + "].";
    // ActiveMQ's names are accepted; values this node cannot honour are refused, not ignored.
    if (nc.duplex())
      return fail(config_errc::out_of_range,
                  at + "duplex: true is not supported (give the peer a connector of its own)");
    if (nc.has_network_ttl() && nc.network_ttl() != default_network_ttl)
      return fail(config_errc::out_of_range,
                  at + "network_ttl: " + std::to_string(nc.network_ttl()) +
                      " is not supported (a message crosses one bridge: 1)");
    if (nc.has_conduit_subscriptions() &&
        nc.conduit_subscriptions() != default_conduit_subscriptions)
      return fail(config_errc::out_of_range,
                  at + "conduit_subscriptions: false is not supported (a bridge consumes each "
                       "destination once)");
    // The replay options act on the node's queues, which do not know which connector a
    // forwarded message came through.
    const NetworkConnector& first = c.network_connectors(0);
    if (nc.replay_when_no_consumers() != first.replay_when_no_consumers() ||
        nc.replay_delay_ms() != first.replay_delay_ms())
      return fail(config_errc::out_of_range,
                  at + "replay_when_no_consumers and replay_delay_ms must be the same on every "
                       "connector (they apply to the node's queues)");
    if (auto ok = check_patterns("excluded_destinations", nc.excluded_destinations()); !ok)
      return ok;
    if (auto ok = check_patterns("statically_included_destinations",
                                 nc.statically_included_destinations());
        !ok)
      return ok;
  }
  for (int i = 0; i < c.destination_policies_size(); ++i)
    if (auto ok = check_policy(c.destination_policies(i),
                               "destination_policies[" + std::to_string(i) + "].");
        !ok)
      return ok;
  return {};
}

std::string dump(const NodeConfig& config) {
  std::string out;
  pb::TextFormat::Printer printer;
  printer.PrintToString(config, &out);
  return out;
}

} // namespace actormq::config
