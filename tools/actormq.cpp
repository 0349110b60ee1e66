// actormq: the client command line, after ActiveMQ's `activemq
// producer|consumer|browse|dstat|purge` tasks and their option names, and `unsubscribe` for
// durable subscriptions (ActiveMQ's clientId and subscriptionName).
//
//   actormq producer --brokerUrl tcp://127.0.0.1:61616 --destination queue://TEST --messageCount
//   100 actormq consumer --destination queue://TEST --messageCount 100 --ackMode CLIENT_ACKNOWLEDGE
//   actormq browse --destination queue://TEST
//   actormq dstat
//   actormq purge --destination queue://TEST
//   actormq retry --destination queue://ActiveMQ.DLQ --max 100
//   actormq consumer --destination topic://prices --durable true --clientId app1
//   --subscriptionName s1
//   actormq unsubscribe --clientId app1 --subscriptionName s1
//
// stdout carries data only (message bodies, the dstat table); progress, summaries and errors go
// to stderr. Exit status 0 on success, 1 on a runtime error, CLI11's codes for usage errors.
#include "client/client.hpp"
#include "common/parse_bool.hpp"
#include "config/defaults.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace client = actormq::client;
namespace config = actormq::config;
using actormq::parse_bool;
using std::chrono::milliseconds;

const std::string default_broker_url = config::default_client_url();
constexpr const char* default_destination = "queue://TEST";
constexpr uint64_t default_message_count = 1000;
constexpr uint32_t default_prefetch = config::default_prefetch;

struct common_options {
  std::string broker_url = default_broker_url;
  std::string user;
  std::string password;
  std::string client_id;
};

void add_common(CLI::App& cmd, common_options& o) {
  cmd.add_option("--brokerUrl", o.broker_url, "Broker URL: tcp://host:port or failover:(...)")
      ->capture_default_str();
  cmd.add_option("--user", o.user, "User name for the connection");
  cmd.add_option("--password", o.password, "Password for the connection");
  cmd.add_option("--clientId", o.client_id,
                 "Client id of the connection (one connection at a time; durable subscriptions "
                 "belong to it); empty: a random one");
}

int fail(const std::string& task, const std::string& what) {
  std::cerr << "actormq " << task << ": " << what << std::endl;
  return 1;
}

// Failover URLs: interruptions and resumptions are told on stderr.
actormq::result<std::unique_ptr<client::connection>> connect(const common_options& o,
                                                             const std::string& task) {
  client::connection_options options;
  options.user = o.user;
  options.password = o.password;
  options.client_id = o.client_id;
  options.on_interrupted = [task](const actormq::failure& why) {
    std::cerr << "actormq " << task << ": connection interrupted (" << why.what << "); reconnecting"
              << std::endl;
  };
  options.on_resumed = [task](const std::string& uri) {
    std::cerr << "actormq " << task << ": reconnected to " << uri << std::endl;
  };
  return client::connection::open(o.broker_url, options);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string rate_text(uint64_t n, double seconds) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(3) << seconds << " s";
  if (seconds > 0)
    out << " (" << std::setprecision(0) << static_cast<double>(n) / seconds << " msg/s)";
  return out.str();
}

// ---- producer ---------------------------------------------------------------------------------

struct producer_task {
  common_options common;
  std::string destination = default_destination;
  uint64_t message_count = default_message_count;
  std::string message;
  uint64_t message_size = 0;
  std::string persistent = "true";
  int64_t ttl_ms = 0;
  uint64_t sleep_ms = 0;
  uint32_t async_window = 0;
  int32_t priority = 4;
  std::vector<std::string> property_args;
  std::string group_id;
  int64_t delay_ms = 0;
  int64_t period_ms = 0;
  int32_t repeat = 0;
  std::string cron;
  bool report_pause = false;
  std::string transacted = "false";
  uint64_t transaction_batch_size = 1;

  void add_to(CLI::App& app) {
    auto* cmd = app.add_subcommand("producer", "Send messages to a queue or topic");
    add_common(*cmd, common);
    cmd->add_option("--destination", destination,
                    "Destination: queue://name, a bare name or topic://name")
        ->capture_default_str();
    cmd->add_option("--messageCount", message_count, "Number of messages to send")
        ->capture_default_str();
    auto* text = cmd->add_option("--message", message,
                                 "Text of every message (default: textMessage:<index>)");
    cmd->add_option("--messageSize", message_size, "Send bodies of this many bytes")
        ->excludes(text);
    cmd->add_option("--persistent", persistent, "true: stored and synced before receipted")
        ->capture_default_str();
    cmd->add_option("--msgTTL,--timeToLive", ttl_ms,
                    "Time to live of each message in ms (0 = forever)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--sleep", sleep_ms, "Pause in ms between sends");
    cmd->add_option("--asyncWindow", async_window,
                    "Persistent sends that may await their receipt at once (0 = each waits)");
    cmd->add_option("--priority", priority, "JMS priority of every message, 0-9 (higher first)")
        ->check(CLI::Range(0, 9))
        ->capture_default_str();
    cmd->add_option("--property", property_args,
                    "A message property name=value (repeatable): true/false a boolean, an "
                    "integer an int (long beyond 32 bits), a decimal with '.' or an exponent a "
                    "double, 'quoted' or anything else a string")
        ->allow_extra_args(false);
    cmd->add_option("--msgGroupID", group_id,
                    "Message group of every message (JMSXGroupID): one consumer gets them all "
                    "(docs/groups.md)");
    cmd->add_option("--delay", delay_ms,
                    "Deliver each message this many ms after it is sent (AMQ_SCHEDULED_DELAY, "
                    "docs/scheduled.md)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--period", period_ms,
                    "With --repeat: ms between deliveries (AMQ_SCHEDULED_PERIOD)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--repeat", repeat,
                    "Deliver each message this many more times (AMQ_SCHEDULED_REPEAT; -1: until "
                    "cancelled)")
        ->check(CLI::Range(-1, INT32_MAX));
    cmd->add_option("--cron", cron,
                    "Deliver each message at the times of this cron expression, UTC "
                    "(AMQ_SCHEDULED_CRON, e.g. \"*/5 * * * *\")");
    cmd->add_flag("--reportPause", report_pause,
                  "Print the longest time one send() blocked (e.g. across a failover)");
    cmd->add_option("--transacted", transacted,
                    "true: send in local transactions, committing every --transactionBatchSize "
                    "messages (a rolled-back commit is sent again; docs/transactions.md)")
        ->capture_default_str();
    cmd->add_option("--transactionBatchSize", transaction_batch_size,
                    "With --transacted true: messages per transaction")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cmd->callback([this] { selected = true; });
  }

  std::string body(uint64_t index) const {
    if (!message.empty())
      return message;
    if (message_size > 0) {
      static const char pattern[] = "0123456789abcdefghijklmnopqrstuvwxyz";
      std::string out(message_size, ' ');
      for (uint64_t i = 0; i < message_size; ++i)
        out[i] = pattern[i % (sizeof(pattern) - 1)];
      return out;
    }
    return "textMessage:" + std::to_string(index);
  }

  int run() const {
    const std::string task = "producer";
    auto persistent_flag = parse_bool(persistent);
    if (!persistent_flag)
      return fail(task, "--persistent takes true or false, not '" + persistent + "'");
    const bool is_persistent = *persistent_flag;
    auto transacted_flag = parse_bool(transacted);
    if (!transacted_flag)
      return fail(task, "--transacted takes true or false, not '" + transacted + "'");
    client::properties string_props;
    client::typed_properties typed_props;
    for (auto& arg : property_args) {
      auto p = client::parse_property(arg);
      if (!p)
        return fail(task, "--property: " + p.message());
      if (auto* text = std::get_if<std::string>(&p->value))
        string_props[p->name] = *text;
      else
        typed_props[p->name] = std::get<client::property_value>(p->value);
    }
    if (!group_id.empty())
      string_props["JMSXGroupID"] = group_id;
    if (delay_ms > 0)
      typed_props["AMQ_SCHEDULED_DELAY"] = client::property_value{delay_ms};
    if (period_ms > 0)
      typed_props["AMQ_SCHEDULED_PERIOD"] = client::property_value{period_ms};
    if (repeat != 0)
      typed_props["AMQ_SCHEDULED_REPEAT"] = client::property_value{repeat};
    if (!cron.empty())
      string_props["AMQ_SCHEDULED_CRON"] = cron;
    auto conn = connect(common, task);
    if (!conn)
      return fail(task, conn.message());
    client::producer_options options;
    options.persistent = is_persistent;
    options.time_to_live_ms = ttl_ms;
    options.async_window = async_window;
    options.priority = priority;
    options.transacted = *transacted_flag;
    auto prod = (*conn)->create_producer(destination, options);
    if (!prod)
      return fail(task, prod.message());
    std::cerr << "Producing " << message_count
              << (is_persistent ? " persistent" : " non-persistent") << " messages to "
              << (*prod)->destination() << " at " << (*conn)->info().remote << std::endl;
    auto start = std::chrono::steady_clock::now();
    uint64_t step = std::max<uint64_t>(1, message_count / 10);
    uint64_t written = 0; // sends that returned success
    // The last stderr line always says how many messages the broker has (persistent: receipted).
    auto summary = [&](const std::string& tail) {
      auto done = is_persistent ? (*prod)->receipted() : written;
      std::cerr << "Produced " << done << " messages to " << (*prod)->destination() << tail
                << std::endl;
    };
    auto failed = [&](const std::string& what) {
      fail(task, what);
      summary(" before the failure above");
      return 1;
    };
    double longest_ms = 0;
    uint64_t longest_index = 0;
    uint64_t batch_start = 0; // transacted: the first message of the open transaction
    uint64_t rollbacks = 0;
    constexpr uint64_t max_rollbacks_in_a_row = 20;
    uint64_t rollbacks_in_a_row = 0;
    for (uint64_t i = 0; i < message_count; ++i) {
      auto send_start = std::chrono::steady_clock::now();
      if (auto sent = (*prod)->send(body(i), string_props, typed_props); !sent)
        return failed("message " + std::to_string(i) + " failed: " + sent.message());
      if (report_pause) {
        double took = seconds_since(send_start) * 1000.0;
        if (took > longest_ms) {
          longest_ms = took;
          longest_index = i;
        }
      }
      ++written;
      if (*transacted_flag &&
          (i + 1 - batch_start >= transaction_batch_size || i + 1 == message_count)) {
        if (auto committed = (*conn)->commit(); !committed) {
          if (committed.code() != client::client_errc::transaction_rolled_back ||
              ++rollbacks_in_a_row > max_rollbacks_in_a_row)
            return failed("the commit of messages " + std::to_string(batch_start) + " to " +
                          std::to_string(i) + " failed: " + committed.message());
          // The same messages again, with the same sequences: the node drops what of them a
          // commit whose outcome was unknown stored already.
          std::cerr << "actormq producer: " << committed.message() << "; sending messages "
                    << batch_start << " to " << i << " again" << std::endl;
          ++rollbacks;
          written -= i + 1 - batch_start;
          i = batch_start - 1; // the loop's ++i: batch_start
          continue;
        }
        rollbacks_in_a_row = 0;
        batch_start = i + 1;
      }
      if ((i + 1) % step == 0 || i + 1 == message_count)
        std::cerr << "Sent " << (i + 1) << " of " << message_count << std::endl;
      if (sleep_ms > 0)
        std::this_thread::sleep_for(milliseconds(sleep_ms));
    }
    if (auto flushed = (*prod)->flush(); !flushed)
      return failed("a send failed: " + flushed.message());
    auto seconds = seconds_since(start);
    if (auto closed = (*conn)->close(); !closed)
      return failed(closed.message());
    std::string tail = " in " + rate_text(message_count, seconds);
    if (auto duplicates = (*prod)->duplicates(); duplicates > 0)
      tail += "; the broker recognised " + std::to_string(duplicates) + " as resends";
    if (rollbacks > 0)
      tail += "; " + std::to_string(rollbacks) + " transactions rolled back and sent again";
    if (report_pause) {
      std::ostringstream pause;
      pause << std::fixed << std::setprecision(1) << longest_ms;
      std::cerr << "Longest send: " << pause.str() << " ms (message " << longest_index << ")"
                << std::endl;
    }
    summary(tail);
    return 0;
  }

  bool selected = false;
};

// ---- consumer ---------------------------------------------------------------------------------

struct consumer_task {
  common_options common;
  std::string destination = default_destination;
  uint64_t message_count = default_message_count;
  uint64_t receive_timeout_ms = 0;
  std::string ack_mode = "AUTO_ACKNOWLEDGE";
  uint32_t prefetch = default_prefetch;
  uint64_t batch_size = 10;
  uint64_t sleep_ms = 0;
  bool print_redelivered = false;
  bool verbose = false;
  std::string durable = "false";
  std::string subscription_name;
  std::string selector;
  std::string transacted = "false";

  void add_to(CLI::App& app) {
    auto* cmd =
        app.add_subcommand("consumer", "Receive messages from a queue or topic, bodies to stdout");
    add_common(*cmd, common);
    cmd->add_option("--destination", destination,
                    "Destination: queue://name, a bare name or topic://name")
        ->capture_default_str();
    cmd->add_option("--messageCount", message_count, "Number of messages to receive")
        ->capture_default_str();
    cmd->add_option("--receiveTimeout", receive_timeout_ms,
                    "Fail when no message arrives for this many ms (0 = wait forever)")
        ->capture_default_str();
    cmd->add_option("--ackMode", ack_mode, "Acknowledgement mode")
        ->check(CLI::IsMember({"AUTO_ACKNOWLEDGE", "CLIENT_ACKNOWLEDGE", "INDIVIDUAL_ACKNOWLEDGE"}))
        ->capture_default_str();
    // ActiveMQ's prefetch 0 makes a consumer pull each message; ActorMQ has no pull consumer yet,
    // and its protocol reads 0 as "the node's default", so 0 is refused rather than misread.
    cmd->add_option("--prefetch", prefetch,
                    "Messages the broker may dispatch ahead (at least 1; prefetch 0, a pulling "
                    "consumer, is not supported)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cmd->add_option("--batchSize", batch_size,
                    "CLIENT_ACKNOWLEDGE: acknowledge every this many messages")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cmd->add_option("--sleep", sleep_ms, "Pause in ms after each message");
    cmd->add_option("--durable", durable,
                    "true: a durable subscription of a topic (needs --clientId and "
                    "--subscriptionName): it keeps what is published while it is away")
        ->capture_default_str();
    cmd->add_option("--subscriptionName", subscription_name, "Name of the durable subscription");
    cmd->add_option("--selector", selector,
                    "JMS selector: only messages it selects, e.g. \"color = 'red' AND weight > "
                    "10\" (docs/selectors.md)");
    cmd->add_option("--transacted", transacted,
                    "true: acknowledge in local transactions, committing every --batchSize "
                    "messages (docs/transactions.md)")
        ->capture_default_str();
    cmd->add_flag("--printRedelivered", print_redelivered,
                  "Prefix redelivered messages with 'redelivered '");
    cmd->add_flag("--verbose", verbose,
                  "After each acknowledge() that returned, print on stderr which of the printed "
                  "messages it acknowledged ('Acknowledged lines: 0 1 2 ...', counting stdout "
                  "lines from 0)");
    cmd->callback([this] { selected = true; });
  }

  int run() const {
    const std::string task = "consumer";
    auto durable_flag = parse_bool(durable);
    if (!durable_flag)
      return fail(task, "--durable takes true or false, not '" + durable + "'");
    client::consumer_options options;
    options.prefetch = prefetch;
    options.durable = *durable_flag;
    options.subscription_name = subscription_name;
    options.selector = selector;
    auto transacted_flag = parse_bool(transacted);
    if (!transacted_flag)
      return fail(task, "--transacted takes true or false, not '" + transacted + "'");
    options.transacted = *transacted_flag;
    if (ack_mode == "CLIENT_ACKNOWLEDGE")
      options.mode = client::ack_mode::client_acknowledge;
    else if (ack_mode == "INDIVIDUAL_ACKNOWLEDGE")
      options.mode = client::ack_mode::individual_acknowledge;
    auto conn = connect(common, task);
    if (!conn)
      return fail(task, conn.message());
    auto cons = (*conn)->create_consumer(destination, options);
    if (!cons)
      return fail(task, cons.message());
    std::cerr << "Consuming " << message_count << " messages from " << (*cons)->destination()
              << " at " << (*conn)->info().remote << " (" << ack_mode << ")" << std::endl;
    auto start = std::chrono::steady_clock::now();
    uint64_t since_ack = 0;
    uint64_t redelivered = 0;
    std::vector<uint64_t> unacked; // --verbose: stdout lines the next acknowledge() covers
    uint64_t epoch = 0;
    std::optional<client::message> last; // the newest message received
    for (uint64_t i = 0; i < message_count; ++i) {
      actormq::result<std::optional<client::message>> next = std::optional<client::message>{};
      if (receive_timeout_ms == 0) {
        auto m = (*cons)->receive();
        if (!m)
          return fail(task,
                      "receive failed after " + std::to_string(i) + " messages: " + m.message());
        next = std::optional<client::message>{std::move(*m)};
      } else {
        next = (*cons)->receive(milliseconds(receive_timeout_ms));
        if (!next)
          return fail(task,
                      "receive failed after " + std::to_string(i) + " messages: " + next.message());
        if (!*next) {
          if (options.transacted && since_ack > 0)
            (void)(*conn)->commit();
          // What was printed was handed to the user: a client-acknowledge consumer that runs
          // out of messages acknowledges its last, partial batch before it ends.
          if (options.mode == client::ack_mode::client_acknowledge && since_ack > 0 && last) {
            if (auto acked = (*cons)->acknowledge(*last); acked && verbose) {
              std::string line = "Acknowledged lines:";
              for (auto n : unacked)
                line += " " + std::to_string(n);
              std::cerr << line << std::endl;
            }
          }
          return fail(task, "no message within " + std::to_string(receive_timeout_ms) +
                                " ms; received " + std::to_string(i) + " of " +
                                std::to_string(message_count));
        }
      }
      last = **next;
      const auto& m = *last;
      if (m.redelivered)
        ++redelivered;
      if (print_redelivered && m.redelivered)
        std::cout << "redelivered ";
      std::cout << m.body << std::endl; // flushed: readers of stdout see progress
      if (verbose && options.mode != client::ack_mode::auto_acknowledge) {
        if (m.failover_epoch != epoch) // what came before the failover cannot be acknowledged
          unacked.clear();
        epoch = m.failover_epoch;
        if (options.mode == client::ack_mode::individual_acknowledge)
          unacked.clear();
        unacked.push_back(i);
      }
      if (options.transacted) {
        if (++since_ack >= batch_size || i + 1 == message_count) {
          if (auto committed = (*conn)->commit(); !committed) {
            if (committed.code() != client::client_errc::transaction_rolled_back)
              return fail(task, "commit failed after " + std::to_string(i + 1) +
                                    " messages: " + committed.message());
            // Its messages come again, marked redelivered: they count once committed.
            std::cerr << "actormq consumer: " << committed.message() << std::endl;
            i -= since_ack;
          }
          since_ack = 0;
        }
      } else if (options.mode == client::ack_mode::individual_acknowledge ||
                 (options.mode == client::ack_mode::client_acknowledge &&
                  (++since_ack >= batch_size || i + 1 == message_count))) {
        if (auto acked = (*cons)->acknowledge(m); !acked) {
          if (acked.code() != client::client_errc::failed_over)
            return fail(task, "acknowledge failed after " + std::to_string(i + 1) +
                                  " messages: " + acked.message());
          // Those messages come again, marked redelivered: carry on.
          std::cerr << "actormq consumer: " << acked.message() << std::endl;
        } else if (verbose) {
          std::string line = "Acknowledged lines:";
          for (auto n : unacked)
            line += " " + std::to_string(n);
          std::cerr << line << std::endl;
        }
        unacked.clear();
        since_ack = 0;
      }
      if (sleep_ms > 0)
        std::this_thread::sleep_for(milliseconds(sleep_ms));
    }
    auto seconds = seconds_since(start);
    if (auto closed = (*cons)->close(); !closed)
      return fail(task, "closing the consumer failed: " + closed.message());
    if (auto closed = (*conn)->close(); !closed)
      return fail(task, closed.message());
    std::cerr << "Consumed " << message_count << " messages from " << (*cons)->destination()
              << " in " << rate_text(message_count, seconds);
    if (redelivered > 0)
      std::cerr << "; " << redelivered << " redelivered";
    std::cerr << std::endl;
    return 0;
  }

  bool selected = false;
};

// ---- browse -----------------------------------------------------------------------------------

struct browse_task {
  common_options common;
  std::string destination = default_destination;
  uint32_t max_messages = 0;

  void add_to(CLI::App& app) {
    auto* cmd = app.add_subcommand("browse", "Print the pending messages of a queue, one a line");
    add_common(*cmd, common);
    cmd->add_option("--destination", destination, "Destination: queue://name or a bare name")
        ->capture_default_str();
    cmd->add_option("--maxMessages", max_messages,
                    "Show at most this many (0 = the broker's limit)");
    cmd->callback([this] { selected = true; });
  }

  int run() const {
    const std::string task = "browse";
    auto conn = connect(common, task);
    if (!conn)
      return fail(task, conn.message());
    auto browsed = (*conn)->browse(destination, max_messages);
    if (!browsed)
      return fail(task, browsed.message());
    for (const auto& m : browsed->messages)
      std::cout << m.body << '\n';
    std::cout.flush();
    (void)(*conn)->close();
    std::cerr << "Browsed " << browsed->messages.size() << " of " << browsed->pending
              << " pending messages" << std::endl;
    return 0;
  }

  bool selected = false;
};

// ---- dstat ------------------------------------------------------------------------------------

struct dstat_task {
  common_options common;
  std::string type = "all";
  bool verbose = false;

  void add_to(CLI::App& app) {
    auto* cmd = app.add_subcommand("dstat", "Print statistics of every destination");
    add_common(*cmd, common);
    cmd->add_option("type", type, "Which destinations: all, queues or topics")
        ->check(CLI::IsMember({"all", "queues", "topics"}))
        ->capture_default_str();
    cmd->add_flag("--verbose", verbose,
                  "Also print In Flight and Duplicates (resends the producer audit dropped)");
    cmd->callback([this] { selected = true; });
  }

  int run() const {
    const std::string task = "dstat";
    auto conn = connect(common, task);
    if (!conn)
      return fail(task, conn.message());
    auto stats = (*conn)->stats();
    if (!stats)
      return fail(task, stats.message());
    (void)(*conn)->close();
    std::vector<client::destination_stats> rows;
    for (const auto& s : *stats) {
      // A durable subscription (durable://client:name@topic://t) is listed with the topics.
      bool is_topic = s.name.rfind("topic://", 0) == 0 || s.name.rfind("durable://", 0) == 0 ||
                      s.name.rfind("temp-topic://", 0) == 0;
      if (type == "all" || (type == "topics") == is_topic)
        rows.push_back(s);
    }
    std::sort(rows.begin(), rows.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    size_t name_width = 4;
    for (const auto& s : rows)
      name_width = std::max(name_width, s.name.size());
    std::cout << std::left << std::setw(static_cast<int>(name_width)) << "Name" << std::right
              << "  " << std::setw(10) << "Queue Size"
              << "  " << std::setw(9) << "Consumers"
              << "  " << std::setw(10) << "Enqueued"
              << "  " << std::setw(10) << "Dequeued";
    // Topics: messages dropped for slow subscribers (limits.slow_topic_subscriber).
    const bool topics = type == "topics";
    if (topics)
      std::cout << "  " << std::setw(10) << "Discarded";
    if (verbose)
      std::cout << "  " << std::setw(9) << "In Flight"
                << "  " << std::setw(10) << "Duplicates";
    std::cout << '\n';
    for (const auto& s : rows) {
      std::cout << std::left << std::setw(static_cast<int>(name_width)) << s.name << std::right
                << "  " << std::setw(10) << s.pending << "  " << std::setw(9) << s.consumers << "  "
                << std::setw(10) << s.enqueued << "  " << std::setw(10) << s.dequeued;
      if (topics)
        std::cout << "  " << std::setw(10) << s.discarded;
      if (verbose)
        std::cout << "  " << std::setw(9) << s.in_flight << "  " << std::setw(10)
                  << s.duplicates_dropped;
      std::cout << '\n';
    }
    std::cout.flush();
    return 0;
  }

  bool selected = false;
};

// ---- purge ------------------------------------------------------------------------------------

struct purge_task {
  common_options common;
  std::vector<std::string> destinations;

  void add_to(CLI::App& app) {
    auto* cmd = app.add_subcommand("purge", "Remove every pending message of a queue");
    add_common(*cmd, common);
    cmd->add_option("--destination,destinations", destinations,
                    "Destination(s): queue://name or a bare name")
        ->required();
    cmd->callback([this] { selected = true; });
  }

  int run() const {
    const std::string task = "purge";
    auto conn = connect(common, task);
    if (!conn)
      return fail(task, conn.message());
    for (const auto& d : destinations) {
      auto removed = (*conn)->purge(d);
      if (!removed)
        return fail(task, removed.message());
      std::cerr << "Purged " << *removed << " messages from " << d << std::endl;
    }
    (void)(*conn)->close();
    return 0;
  }

  bool selected = false;
};

// ---- retry ------------------------------------------------------------------------------------

struct retry_task {
  common_options common;
  std::vector<std::string> destinations;
  uint32_t max_messages = 0;

  void add_to(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "retry", "Move the messages of a dead-letter queue back to their original destinations");
    add_common(*cmd, common);
    cmd->add_option("--destination,destinations", destinations,
                    "Dead-letter queue(s): queue://ActiveMQ.DLQ or a bare name")
        ->required();
    cmd->add_option("--max", max_messages, "Move at most this many (0: up to 1000 per call)");
    cmd->callback([this] { selected = true; });
  }

  int run() const {
    const std::string task = "retry";
    auto conn = connect(common, task);
    if (!conn)
      return fail(task, conn.message());
    for (const auto& d : destinations) {
      auto moved = (*conn)->retry(d, max_messages);
      if (!moved)
        return fail(task, moved.message());
      std::cerr << "Moved " << *moved << " messages from " << d
                << " back to their original destinations" << std::endl;
    }
    (void)(*conn)->close();
    return 0;
  }

  bool selected = false;
};

// ---- unsubscribe ------------------------------------------------------------------------------

struct unsubscribe_task {
  common_options common;
  std::string subscription_name;

  void add_to(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "unsubscribe", "Remove a durable subscription of a client id and the messages it holds");
    add_common(*cmd, common);
    cmd->add_option("--subscriptionName", subscription_name, "Name of the durable subscription")
        ->required();
    cmd->callback([this] { selected = true; });
  }

  int run() const {
    const std::string task = "unsubscribe";
    if (common.client_id.empty())
      return fail(task, "--clientId is needed: a durable subscription belongs to a client id");
    auto conn = connect(common, task);
    if (!conn)
      return fail(task, conn.message());
    auto removed = (*conn)->unsubscribe(subscription_name);
    if (!removed)
      return fail(task, removed.message());
    std::cerr << "Unsubscribed " << subscription_name << " of client id " << common.client_id
              << ": " << *removed << " pending messages removed" << std::endl;
    (void)(*conn)->close();
    return 0;
  }

  bool selected = false;
};

// ---- request / respond ------------------------------------------------------------------------

// Request/reply (connection::request): each request waits for its reply, printed on stdout.
struct request_task {
  common_options common;
  std::string destination = default_destination;
  std::string message = "request";
  uint64_t message_count = 1;
  int64_t timeout_ms = 30000;
  std::string persistent = "true";

  void add_to(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "request", "Send requests (reply-to a temporary queue) and print each reply's body");
    add_common(*cmd, common);
    cmd->add_option("--destination", destination, "Where requests go: queue:// or topic://")
        ->capture_default_str();
    cmd->add_option("--message", message, "Body of each request")->capture_default_str();
    cmd->add_option("--messageCount", message_count, "Requests, one after another")
        ->capture_default_str();
    cmd->add_option("--timeout", timeout_ms, "Milliseconds to wait for each reply")
        ->capture_default_str()
        ->check(CLI::Range(int64_t{1}, int64_t{86400000}));
    cmd->add_option("--persistent", persistent, "Persistent requests: true or false")
        ->capture_default_str();
    cmd->callback([this] { selected = true; });
  }

  int run() const {
    const std::string task = "request";
    auto conn = connect(common, task);
    if (!conn)
      return fail(task, conn.message());
    auto persistent_flag = parse_bool(persistent);
    if (!persistent_flag)
      return fail(task, "--persistent takes true or false, not '" + persistent + "'");
    client::request_options options;
    options.timeout = milliseconds(timeout_ms);
    options.persistent = *persistent_flag;
    for (uint64_t i = 0; i < message_count; ++i) {
      auto reply = (*conn)->request(destination, message, options);
      if (!reply)
        return fail(task, reply.message());
      std::cout << reply->body << std::endl;
    }
    (void)(*conn)->close();
    std::cerr << "Received " << message_count << " replies from " << destination << std::endl;
    return 0;
  }

  bool selected = false;
};

// Answers requests: each one's reply goes to its reply-to, with its correlation id.
struct respond_task {
  common_options common;
  std::string destination = default_destination;
  std::string message;
  uint64_t message_count = default_message_count;
  int64_t receive_timeout_ms = 0;

  void add_to(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "respond", "Answer requests: reply to each one's reply-to with its correlation id");
    add_common(*cmd, common);
    cmd->add_option("--destination", destination, "Where requests come from")
        ->capture_default_str();
    cmd->add_option("--message", message, "Body of each reply (default: \"reply:\" + request)");
    cmd->add_option("--messageCount", message_count, "Requests to answer, then exit")
        ->capture_default_str();
    cmd->add_option("--receiveTimeout", receive_timeout_ms,
                    "Give up after this many milliseconds without a request (0 = wait forever)")
        ->capture_default_str();
    cmd->callback([this] { selected = true; });
  }

  int run() const {
    const std::string task = "respond";
    auto conn = connect(common, task);
    if (!conn)
      return fail(task, conn.message());
    auto cons = (*conn)->create_consumer(destination);
    if (!cons)
      return fail(task, cons.message());
    std::cerr << "Answering " << message_count << " requests from " << destination << std::endl;
    for (uint64_t answered = 0; answered < message_count;) {
      // Without a timeout: a year.
      auto got = (*cons)->receive(
          milliseconds(receive_timeout_ms > 0 ? receive_timeout_ms : int64_t{31536000000}));
      if (!got)
        return fail(task, got.message());
      if (!*got)
        return fail(task, "no request within " + std::to_string(receive_timeout_ms) +
                              " ms; answered " + std::to_string(answered));
      auto& request = **got;
      if (request.reply_to.empty()) {
        std::cerr << "actormq respond: a message without reply-to is not answered" << std::endl;
        continue;
      }
      auto prod = (*conn)->create_producer(request.reply_to);
      if (!prod)
        return fail(task, prod.message());
      client::message_headers headers;
      headers.correlation_id = request.correlation_id;
      auto body = message.empty() ? "reply:" + request.body : message;
      if (auto sent = (*prod)->send(body, {}, {}, headers); !sent)
        return fail(task, "reply to " + request.reply_to + ": " + sent.message());
      ++answered;
    }
    (void)(*cons)->close();
    (void)(*conn)->close();
    std::cerr << "Answered " << message_count << " requests" << std::endl;
    return 0;
  }

  bool selected = false;
};

} // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"actormq: send, receive, browse and manage messages of an ActorMQ broker"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "actormq 0.1.0");
  producer_task producer;
  consumer_task consumer;
  browse_task browse;
  dstat_task dstat;
  purge_task purge;
  retry_task retry;
  unsubscribe_task unsubscribe;
  request_task request;
  respond_task respond;
  producer.add_to(app);
  consumer.add_to(app);
  browse.add_to(app);
  dstat.add_to(app);
  purge.add_to(app);
  retry.add_to(app);
  unsubscribe.add_to(app);
  request.add_to(app);
  respond.add_to(app);
  CLI11_PARSE(app, argc, argv);
  if (producer.selected)
    return producer.run();
  if (consumer.selected)
    return consumer.run();
  if (browse.selected)
    return browse.run();
  if (dstat.selected)
    return dstat.run();
  if (purge.selected)
    return purge.run();
  if (retry.selected)
    return retry.run();
  if (unsubscribe.selected)
    return unsubscribe.run();
  if (request.selected)
    return request.run();
  if (respond.selected)
    return respond.run();
  return 1;
}
