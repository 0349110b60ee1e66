// The configuration loader: defaults, then the file (strict Protobuf text format), then
// command-line overrides (by reflection), then validation (validate.cpp) and path resolution.
#include "config/loader.hpp"

#include "common/parse_bool.hpp"
#include "config/config_failure.hpp"
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
using detail::fail;
using detail::in_quotes;

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

// Replication is off unless its block is there; a block takes the defaults it leaves out.
void fill_replication_defaults(NodeConfig& config) {
  if (!config.has_replication())
    return;
  Replication& r = *config.mutable_replication();
  if (!r.has_zk_path())
    r.set_zk_path(std::string(default_zk_path));
  if (!r.has_replicas())
    r.set_replicas(default_replicas);
  if (!r.has_zk_session_timeout_ms())
    r.set_zk_session_timeout_ms(default_zk_session_timeout_ms);
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

} // namespace

const std::error_category& config_category() {
  static const category_impl instance;
  return instance;
}

std::error_code make_error_code(config_errc e) {
  return {static_cast<int>(e), config_category()};
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
  fill_replication_defaults(config);

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

std::string dump(const NodeConfig& config) {
  std::string out;
  pb::TextFormat::Printer printer;
  printer.PrintToString(config, &out);
  return out;
}

} // namespace actormq::config
