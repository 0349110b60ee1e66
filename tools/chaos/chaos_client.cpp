// actormq-chaos-client: a producer or consumer that writes every event to a history file, one
// JSON object a line, flushed per line (a client killed with SIGKILL leaves a usable file). The
// chaos checker (tools/chaos/check_history.py) reads these files; docs/chaos.md describes them.
//
//   actormq-chaos-client producer --brokerUrl 'failover:(tcp://127.0.0.1:1,tcp://127.0.0.1:2)'
//       --destination queue://chaos --messageCount 1000 --sleep 10 --history p1.jsonl --name p1
//   actormq-chaos-client consumer --brokerUrl tcp://127.0.0.1:3 --destination queue://chaos
//       --ackMode individual --prefetch 10 --sleep 10 --history c1.jsonl --idleTimeout 5000
//
// A consumer on a plain tcp:// URL opens a new connection when its connection is lost (the node
// may be restarted by the storm), so one history covers the consumer's whole run. SIGTERM and
// SIGINT end either role after the message in hand: the consumer closes (flushing its
// acknowledgements), the producer stops sending. Exit status 0 unless the history cannot be
// written or the first connection cannot be opened.
#include "client/client.hpp"
#include "config/defaults.hpp"

#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>

namespace {

namespace client = actormq::client;
namespace config = actormq::config;
using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

std::atomic<bool> stop_requested{false};

extern "C" void on_stop_signal(int) {
  stop_requested = true;
}

std::string json_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

// One JSON object under construction: fields in the order they are added.
class event {
public:
  event& str(const char* key, const std::string& value) { return raw(key, json_escape(value)); }
  event& num(const char* key, uint64_t value) { return raw(key, std::to_string(value)); }
  event& flag(const char* key, bool value) { return raw(key, value ? "true" : "false"); }
  event& raw(const char* key, const std::string& json_value) {
    if (!body_.empty())
      body_ += ',';
    body_ += json_escape(key) + ':' + json_value;
    return *this;
  }
  std::string text() const { return "{" + body_ + "}"; }

private:
  std::string body_;
};

// The history file. Every line starts with the wall-clock time (seconds since the epoch, to the
// microsecond: histories of different processes on one host are merged by it), the client's
// name and the event's type. Lines come from the main thread and from the library's callback
// threads, hence the mutex.
class history {
public:
  history(std::string path, std::string client)
      : path_(std::move(path)), client_(std::move(client)) {}
  ~history() {
    if (file_ != nullptr)
      std::fclose(file_);
  }
  history(const history&) = delete;
  history& operator=(const history&) = delete;

  bool open() {
    file_ = std::fopen(path_.c_str(), "a");
    return file_ != nullptr;
  }

  event begin(const char* type) const {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
    std::ostringstream t;
    t << us / 1000000 << '.' << std::setw(6) << std::setfill('0') << us % 1000000;
    event e;
    e.raw("t", t.str()).str("client", client_).str("type", type);
    return e;
  }

  // Writes and flushes one line. A failed write ends the process: a history with holes would
  // make the checker report losses that did not happen.
  void write(const event& e) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string line = e.text() + "\n";
    if (std::fputs(line.c_str(), file_) < 0 || std::fflush(file_) != 0) {
      std::cerr << "actormq-chaos-client: cannot write " << path_ << std::endl;
      std::_Exit(1);
    }
  }

private:
  std::string path_;
  std::string client_;
  std::FILE* file_ = nullptr;
  std::mutex mutex_;
};

struct common_options {
  std::string broker_url;
  std::string destination = "queue://chaos";
  uint64_t message_count = 0; // 0 = no limit
  double duration_s = 0;      // 0 = no limit
  uint64_t sleep_ms = 0;
  std::string history_path;
  std::string name;

  void add_to(CLI::App& cmd) {
    cmd.add_option("--brokerUrl", broker_url, "tcp://host:port or failover:(...)")->required();
    cmd.add_option("--destination", destination, "queue://name")->capture_default_str();
    cmd.add_option("--messageCount", message_count, "Stop after this many (0 = no limit)");
    cmd.add_option("--duration", duration_s, "Stop after this many seconds (0 = no limit)");
    cmd.add_option("--sleep", sleep_ms, "Pause in ms after each message");
    cmd.add_option("--history", history_path, "History file (JSON lines, appended)")->required();
    cmd.add_option("--name", name, "Client name in the history and message ids (default: pid)");
  }

  bool done(uint64_t n, steady::time_point start) const {
    if (stop_requested)
      return true;
    if (message_count > 0 && n >= message_count)
      return true;
    return duration_s > 0 &&
           std::chrono::duration<double>(steady::now() - start).count() >= duration_s;
  }
};

bool is_failover(const std::string& url) {
  return url.rfind("failover:", 0) == 0;
}

// Connection options that record interruptions and resumptions of a failover transport.
client::connection_options traced_options(history& h) {
  client::connection_options o;
  o.on_interrupted = [&h](const actormq::failure& why) {
    h.write(h.begin("connection").str("event", "interrupted").str("detail", why.message()));
  };
  o.on_resumed = [&h](const std::string& uri) {
    h.write(h.begin("connection").str("event", "resumed").str("detail", uri));
  };
  o.on_warning = [&h](const std::string& line) {
    h.write(h.begin("connection").str("event", "warning").str("detail", line));
  };
  return o;
}

// Errors after which the send may have been stored: the node may have taken it and the
// receipt never came. A broker error is the node's refusal.
bool outcome_unknown(const std::error_code& ec) {
  return !client::is_broker_error(ec);
}

// ---- producer ---------------------------------------------------------------------------------

// Async sends (--asyncWindow): the sequence each send will take, mapped to its id, so the
// completion callback (on the connection's threads) can record the outcome of that id.
struct async_sends {
  std::mutex mutex;
  std::map<uint64_t, std::string> ids;
  std::string producer_id;

  void add(uint64_t sequence, const std::string& id) {
    std::lock_guard<std::mutex> lock(mutex);
    ids[sequence] = id;
  }
  std::string take(uint64_t sequence) {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = ids.find(sequence);
    if (it == ids.end())
      return {};
    auto id = std::move(it->second);
    ids.erase(it);
    return id;
  }
};

void record_outcome(history& h, const std::string& id, const actormq::result<void>& outcome,
                    const std::string& producer_id, uint64_t sequence) {
  if (outcome)
    h.write(h.begin("ok")
                .str("id", id)
                .str("producer_id", producer_id)
                .num("producer_sequence", sequence));
  else
    h.write(h.begin(outcome_unknown(outcome.code()) ? "unknown" : "error")
                .str("id", id)
                .str("error", outcome.message()));
}

struct producer_role {
  common_options common;
  bool persistent = true;
  uint32_t async_window = 0;

  void add_to(CLI::App& app) {
    auto* cmd = app.add_subcommand("producer", "Send messages with unique ids, recording each");
    common.add_to(*cmd);
    cmd->add_option("--persistent", persistent, "Stored and synced before receipted")
        ->capture_default_str();
    cmd->add_option("--asyncWindow", async_window,
                    "Persistent sends that may await their receipt at once (0 = each waits)");
  }

  int run(history& h, const std::string& name) const {
    h.write(h.begin("start")
                .str("role", "producer")
                .str("url", common.broker_url)
                .str("destination", common.destination)
                .num("async_window", async_window)
                .num("pid", static_cast<uint64_t>(::getpid())));
    auto conn = client::connection::open(common.broker_url, traced_options(h));
    if (!conn) {
      h.write(h.begin("end").str("reason", "cannot connect: " + conn.message()));
      std::cerr << "actormq-chaos-client producer: " << conn.message() << std::endl;
      return 1;
    }
    async_sends pending;
    client::producer_options po;
    po.persistent = persistent;
    po.async_window = async_window;
    if (async_window > 0)
      po.on_complete = [&h, &pending](uint64_t sequence, const actormq::result<void>& outcome) {
        auto id = pending.take(sequence);
        if (!id.empty())
          record_outcome(h, id, outcome, pending.producer_id, sequence);
      };
    auto prod = (*conn)->create_producer(common.destination, po);
    if (!prod) {
      h.write(h.begin("end").str("reason", "cannot create the producer: " + prod.message()));
      return 1;
    }
    pending.producer_id = (*prod)->id();
    const auto start = steady::now();
    uint64_t n = 0;
    uint64_t failed = 0;
    std::string reason = "done";
    while (!common.done(n, start)) {
      ++n;
      const std::string id = name + "-" + std::to_string(n);
      h.write(h.begin("invoke").str("id", id).str("destination", common.destination).num("n", n));
      // One thread sends: the next sequence is the last one plus one.
      const uint64_t sequence = (*prod)->sent() + 1;
      if (async_window > 0)
        pending.add(sequence, id);
      const uint64_t duplicates_before = (*prod)->duplicates();
      auto sent = (*prod)->send(id);
      if (async_window == 0) {
        record_outcome(h, id, sent, pending.producer_id, sequence);
        if (sent && (*prod)->duplicates() != duplicates_before)
          h.write(h.begin("duplicate_receipt").str("id", id));
      } else if (!sent && (*prod)->sent() < sequence) {
        // Not written at all: an earlier send's failure was reported instead, or the
        // connection had ended. Its callback will not come.
        record_outcome(h, pending.take(sequence), sent, pending.producer_id, sequence);
      }
      if (!sent) {
        ++failed;
        if (sent.code() == client::client_errc::closed ||
            (!is_failover(common.broker_url) && !(*conn)->is_open())) {
          reason = "connection ended: " + sent.message();
          break;
        }
      }
      if (common.sleep_ms > 0)
        std::this_thread::sleep_for(milliseconds(common.sleep_ms));
    }
    if (stop_requested)
      reason = "stop signal";
    (void)(*prod)->close(); // waits for the outstanding async sends: their callbacks ran
    (void)(*conn)->close();
    h.write(h.begin("end").str("reason", reason).num("sent", n).num("failed", failed));
    return 0;
  }
};

// ---- consumer ---------------------------------------------------------------------------------

struct consumer_role {
  common_options common;
  std::string ack_mode = "auto";
  uint32_t prefetch = config::default_prefetch;
  uint64_t idle_timeout_ms = 0;
  std::string client_id; // with subscription_name: a durable subscriber of a topic
  std::string subscription_name;

  void add_to(CLI::App& app) {
    auto* cmd = app.add_subcommand("consumer", "Receive messages, recording each delivery");
    common.add_to(*cmd);
    cmd->add_option("--ackMode", ack_mode, "auto, client or individual")
        ->check(CLI::IsMember({"auto", "client", "individual"}))
        ->capture_default_str();
    cmd->add_option("--prefetch", prefetch, "Messages dispatched ahead")->capture_default_str();
    cmd->add_option("--idleTimeout", idle_timeout_ms,
                    "Stop when no message came for this many ms (0 = never)");
    cmd->add_option("--clientId", client_id, "The connection's client id (durable subscriptions)");
    cmd->add_option("--subscriptionName", subscription_name,
                    "A durable subscription of this name (a topic; needs --clientId)")
        ->needs("--clientId");
  }

  bool durable() const { return !subscription_name.empty(); }

  // The subscription deliveries are recorded under: what the checker expects every message of
  // a topic to reach once. Empty for a queue consumer.
  std::string subscription() const { return durable() ? client_id + ":" + subscription_name : ""; }

  client::consumer_options options() const {
    client::consumer_options o;
    o.prefetch = prefetch;
    o.durable = durable();
    o.subscription_name = subscription_name;
    if (ack_mode == "client")
      o.mode = client::ack_mode::client_acknowledge;
    else if (ack_mode == "individual")
      o.mode = client::ack_mode::individual_acknowledge;
    return o;
  }

  struct session {
    std::unique_ptr<client::connection> conn;
    std::unique_ptr<client::consumer> cons;
  };

  actormq::result<session> open(history& h) const {
    auto connection_options = traced_options(h);
    connection_options.client_id = client_id;
    auto conn = client::connection::open(common.broker_url, connection_options);
    if (!conn)
      return conn.error();
    auto cons = (*conn)->create_consumer(common.destination, options());
    if (!cons)
      return cons.error();
    h.write(h.begin("connection").str("event", "connected").str("detail", (*conn)->info().remote));
    if (durable())
      h.write(h.begin("subscribed")
                  .str("destination", common.destination)
                  .str("subscription", subscription()));
    return session{std::move(*conn), std::move(*cons)};
  }

  void record_delivery(history& h, const client::message& m) const {
    h.write(h.begin("deliver")
                .str("id", m.body)
                .str("destination", m.destination)
                .flag("redelivered", m.redelivered)
                .num("delivery_count", m.delivery_count)
                .str("producer_id", m.producer_id)
                .num("producer_sequence", m.producer_sequence)
                .str("origin_store_id", m.origin_store_id)
                .num("origin_sequence", m.origin_sequence)
                .num("consumer_id", m.consumer_id)
                .num("failover_epoch", m.failover_epoch)
                .str("subscription", subscription()));
  }

  void acknowledge(history& h, client::consumer& cons, const client::message& m) const {
    auto acked = cons.acknowledge(m);
    auto e = h.begin("ack").str("id", m.body).str("mode", ack_mode);
    if (acked)
      e.str("outcome", "ok");
    else
      e.str("outcome", acked.code() == client::client_errc::failed_over ? "failed_over" : "error")
          .str("error", acked.message());
    h.write(e);
  }

  int run(history& h) const {
    h.write(h.begin("start")
                .str("role", "consumer")
                .str("url", common.broker_url)
                .str("destination", common.destination)
                .str("ack_mode", ack_mode)
                .num("prefetch", prefetch)
                .str("subscription", subscription())
                .num("pid", static_cast<uint64_t>(::getpid())));
    const auto start = steady::now();
    auto last_message = start;
    uint64_t n = 0;
    std::string reason = "done";
    bool first = true;
    while (!common.done(n, start)) {
      auto s = open(h);
      if (!s) {
        // A durable subscriber restarted after a SIGKILL may find its client id still held by
        // the connection the node has not yet seen close: it tries again for a while.
        const bool may_retry = durable() && steady::now() - start < std::chrono::seconds(15);
        if (first && !may_retry) {
          h.write(h.begin("end").str("reason", "cannot connect: " + s.message()));
          std::cerr << "actormq-chaos-client consumer: " << s.message() << std::endl;
          return 1;
        }
        // The node is down (a storm restarts it): try again shortly.
        std::this_thread::sleep_for(milliseconds(200));
        if (idle_timeout_ms > 0 && steady::now() - last_message > milliseconds(idle_timeout_ms)) {
          reason = "idle";
          break;
        }
        continue;
      }
      first = false;
      bool lost = false;
      while (!common.done(n, start)) {
        auto next = s->cons->receive(milliseconds(100));
        if (!next) {
          h.write(h.begin("connection").str("event", "lost").str("detail", next.message()));
          lost = true;
          break;
        }
        if (!*next) {
          if (idle_timeout_ms > 0 && steady::now() - last_message > milliseconds(idle_timeout_ms))
            break;
          continue;
        }
        const auto& m = **next;
        ++n;
        last_message = steady::now();
        record_delivery(h, m);
        if (common.sleep_ms > 0)
          std::this_thread::sleep_for(milliseconds(common.sleep_ms));
        if (ack_mode != "auto")
          acknowledge(h, *s->cons, m);
      }
      if (!lost) {
        // Ending on purpose: close flushes auto acknowledgements.
        auto closed = s->cons->close();
        h.write(h.begin("close")
                    .str("outcome", closed ? "ok" : "error")
                    .str("error", closed.message()));
        (void)s->conn->close();
        if (!common.done(n, start))
          reason = "idle";
        break;
      }
      (void)s->conn->close();
    }
    if (stop_requested)
      reason = "stop signal";
    h.write(h.begin("end").str("reason", reason).num("delivered", n));
    return 0;
  }
};

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"ActorMQ chaos client: producer and consumer that record a history"};
  app.require_subcommand(1);
  producer_role producer;
  consumer_role consumer;
  producer.add_to(app);
  consumer.add_to(app);
  CLI11_PARSE(app, argc, argv);

  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  const bool is_producer = app.got_subcommand("producer");
  const common_options& common = is_producer ? producer.common : consumer.common;
  const std::string name = common.name.empty()
                               ? std::string(is_producer ? "p" : "c") + std::to_string(::getpid())
                               : common.name;
  history h(common.history_path, name);
  if (!h.open()) {
    std::cerr << "actormq-chaos-client: cannot open " << common.history_path << std::endl;
    return 1;
  }
  if (is_producer)
    return producer.run(h, name);
  return consumer.run(h);
}
