// actormq-bench: a workload against a running ActorMQ node, after ActiveMQ's perf tools.
//
//   actormq-bench --brokerUrl tcp://127.0.0.1:61616 --destination queue://bench
//       --producers 4 --consumers 4 --messages 40000 --size 1024 --persistent true
//   actormq-bench ... --rate 200 --messages 6000          # fixed send rate: a latency run
//   actormq-bench ... --json                              # one JSON object on stdout
//   actormq-bench disk --dir /tmp/x --count 2000          # this disk's synced-commit time
//
// Each producer and each consumer is a thread with its own connection. Consumers start (and
// their subscriptions are confirmed) before producers. Producers put their send time
// (steady_clock, ns) in a message property; consumers compute the end-to-end latency of each
// message. A progress line goes to stderr every ~0.5 s. The run ends once every message was
// received (or, with no consumers, once every send completed); if the received count stops
// moving for --timeout seconds the run fails and says how many messages are missing.
// On a topic (--destination topic://x) every consumer is a subscriber and must receive every
// message: the run waits for messages x consumers deliveries, and received counts them all.
// With --durable each subscriber is a durable subscription ("bench", client id
// --clientIdPrefix + its index), made before the producers start and removed at the end unless
// --keepSubscriptions. --storeGrowth (with --durable and --metricsUrl) measures how much the
// store grows per message: the subscriptions' consumers close before the sends (the
// subscriptions keep everything), the store's used bytes are read before the first send and
// after the last, then the consumers open again and drain (bench_store_growth.hpp).
//
// Exit status: 0 success; 1 a failed send/receive, missing or duplicated messages; CLI11's
// codes for usage errors.
#include "client/client.hpp"
#include "common/json.hpp"
#include "common/parse_bool.hpp"
#include "config/defaults.hpp"
#include "tools/bench_store_growth.hpp"

#include <CLI/CLI.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using actormq::json_quoted;

namespace client = actormq::client;
namespace config = actormq::config;
using actormq::parse_bool;
using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* prop_run = "bench-run";
constexpr const char* prop_id = "bench-id";
constexpr const char* prop_time = "bench-ns";
constexpr const char* durable_subscription_name = "bench";

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch())
      .count();
}

double seconds_between(clock_type::time_point a, clock_type::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string random_run_id() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd() ^ static_cast<uint64_t>(now_ns()));
  std::ostringstream out;
  out << std::hex << std::setw(16) << std::setfill('0') << gen();
  return out.str();
}

// The inside of a JSON string (the caller writes the quotes).
std::string json_escape(const std::string& s) {
  auto quoted = json_quoted(s);
  return quoted.substr(1, quoted.size() - 2);
}

// ---- percentiles ------------------------------------------------------------------------------

struct latency_summary {
  uint64_t samples = 0;
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0, mean = 0; // ms
};

// Nearest-rank percentile of a sorted vector.
template <class T> T percentile(const std::vector<T>& sorted, double p) {
  if (sorted.empty())
    return T{};
  auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

latency_summary summarize_ns(std::vector<int64_t>& ns) {
  latency_summary s;
  s.samples = ns.size();
  if (ns.empty())
    return s;
  std::sort(ns.begin(), ns.end());
  auto ms = [](int64_t v) { return static_cast<double>(v) / 1e6; };
  s.p50 = ms(percentile(ns, 50));
  s.p90 = ms(percentile(ns, 90));
  s.p99 = ms(percentile(ns, 99));
  s.p999 = ms(percentile(ns, 99.9));
  s.max = ms(ns.back());
  long double sum = 0;
  for (auto v : ns)
    sum += v;
  s.mean = static_cast<double>(sum / static_cast<long double>(ns.size()) / 1e6L);
  return s;
}

// ---- /proc ------------------------------------------------------------------------------------

// A field of /proc/PID/status in KiB ("RssAnon", "VmRSS", ...); nullopt if unreadable.
std::optional<uint64_t> proc_status_kib(int pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, field.size() + 1, field + ":") == 0) {
      std::istringstream fields(line.substr(field.size() + 1));
      uint64_t kib = 0;
      if (fields >> kib)
        return kib;
    }
  }
  return std::nullopt;
}

// Flushes and writes completed by a block device (/proc/diskstats fields 15 and 5 after the
// name); nullopt if the device is unknown or the kernel does not count flushes.
struct disk_counters {
  uint64_t flushes = 0;
  uint64_t writes = 0;
};
std::optional<disk_counters> read_diskstats(const std::string& device) {
  std::ifstream in("/proc/diskstats");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    uint64_t major = 0, minor = 0;
    std::string name;
    if (!(f >> major >> minor >> name) || name != device)
      continue;
    std::vector<uint64_t> v;
    uint64_t x = 0;
    while (f >> x)
      v.push_back(x);
    if (v.size() < 17)
      return std::nullopt;
    return disk_counters{v[15], v[4]};
  }
  return std::nullopt;
}

// CPU time in clock ticks: the whole machine's busy time (/proc/stat) and a process's user +
// system time (/proc/PID/stat, every thread).
std::optional<uint64_t> machine_busy_ticks() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  if (!(in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal) ||
      cpu != "cpu")
    return std::nullopt;
  return user + nice + system + irq + softirq;
}

std::optional<uint64_t> process_ticks(int pid) {
  std::ifstream in(pid > 0 ? "/proc/" + std::to_string(pid) + "/stat" : "/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close == std::string::npos)
    return std::nullopt;
  std::istringstream f(text.substr(close + 2));
  std::string field;
  uint64_t utime = 0, stime = 0;
  // Fields after the command: state(3) ... utime(14) stime(15).
  for (int i = 3; i <= 13; ++i)
    f >> field;
  if (!(f >> utime >> stime))
    return std::nullopt;
  return utime + stime;
}

std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

// ---- the disk mode ----------------------------------------------------------------------------

struct disk_options {
  std::string dir;
  uint64_t count = 1000;
  bool json = false;
};

// Times `count` synced commits on a preallocated file. Plain: pwrite 1 KiB + fdatasync (the
// issue's "synced commit"). LMDB-like: the same, then a 4 KiB meta-page pwrite through a second
// descriptor opened with O_DSYNC, as an LMDB commit does (data fdatasync, then a synced meta
// write), so two device flushes per commit.
std::optional<std::vector<int64_t>> time_commits(const std::string& path, uint64_t count,
                                                 bool lmdb_like, double& elapsed, int& err) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    err = errno;
    return std::nullopt;
  }
  constexpr size_t block = 1024;
  constexpr size_t file_size = 4u << 20;
  std::string zeros(file_size, '\0');
  bool ok = ::pwrite(fd, zeros.data(), zeros.size(), 0) == static_cast<ssize_t>(zeros.size()) &&
            ::fsync(fd) == 0;
  int meta = lmdb_like ? ::open(path.c_str(), O_WRONLY | O_DSYNC | O_CLOEXEC) : -1;
  if (lmdb_like && meta < 0)
    ok = false;
  std::vector<int64_t> ns;
  ns.reserve(count);
  std::string data(block, 'd');
  std::string page(4096, 'm');
  auto start = clock_type::now();
  for (uint64_t i = 0; ok && i < count; ++i) {
    data[0] = static_cast<char>('a' + i % 26);
    // Data pages rotate over the file past the two meta pages; the meta page alternates.
    auto offset = static_cast<off_t>(8192 + (i * 4096) % (file_size - 8192));
    auto t0 = now_ns();
    if (::pwrite(fd, data.data(), data.size(), offset) != static_cast<ssize_t>(data.size()) ||
        ::fdatasync(fd) != 0) {
      ok = false;
      break;
    }
    if (lmdb_like && ::pwrite(meta, page.data(), page.size(), static_cast<off_t>((i % 2) * 4096)) !=
                         static_cast<ssize_t>(page.size())) {
      ok = false;
      break;
    }
    ns.push_back(now_ns() - t0);
  }
  elapsed = seconds_between(start, clock_type::now());
  err = errno;
  if (meta >= 0)
    ::close(meta);
  ::close(fd);
  ::unlink(path.c_str());
  if (!ok)
    return std::nullopt;
  return ns;
}

int run_disk(const disk_options& o) {
  std::string path = o.dir + "/actormq-bench-disk." + std::to_string(::getpid()) + ".tmp";
  struct pattern_result {
    latency_summary s;
    double per_s = 0;
  };
  pattern_result r[2];
  for (int lmdb_like = 0; lmdb_like < 2; ++lmdb_like) {
    double elapsed = 0;
    int err = 0;
    auto ns = time_commits(path, o.count, lmdb_like == 1, elapsed, err);
    if (!ns) {
      std::cerr << "actormq-bench disk: writing or syncing " << path
                << " failed: " << std::strerror(err) << std::endl;
      return 1;
    }
    r[lmdb_like].s = summarize_ns(*ns);
    r[lmdb_like].per_s = elapsed > 0 ? static_cast<double>(ns->size()) / elapsed : 0;
  }
  const auto& a = r[0];
  const auto& b = r[1];
  if (o.json) {
    std::cout << std::fixed << std::setprecision(3) << "{\"mode\":\"disk\",\"dir\":\""
              << json_escape(o.dir) << "\",\"commits\":" << o.count << ",\"median_ms\":" << a.s.p50
              << ",\"p99_ms\":" << a.s.p99 << ",\"mean_ms\":" << a.s.mean
              << ",\"max_ms\":" << a.s.max << ",\"commits_per_s\":" << std::setprecision(1)
              << a.per_s << std::setprecision(3) << ",\"lmdb_median_ms\":" << b.s.p50
              << ",\"lmdb_p99_ms\":" << b.s.p99
              << ",\"lmdb_commits_per_s\":" << std::setprecision(1) << b.per_s << ",\"load\":\""
              << loadavg() << "\"}" << std::endl;
  } else {
    std::cout << std::fixed << std::setprecision(3) << "disk " << o.dir << ", " << o.count
              << " synced commits each (load " << loadavg() << ")\n"
              << "  1 KiB pwrite + fdatasync:            median " << a.s.p50 << " ms, p99 "
              << a.s.p99 << " ms, mean " << a.s.mean << " ms, max " << a.s.max << " ms, "
              << std::setprecision(0) << a.per_s << " commits/s\n"
              << std::setprecision(3) << "  + 4 KiB O_DSYNC meta write (LMDB): median " << b.s.p50
              << " ms, p99 " << b.s.p99 << " ms, mean " << b.s.mean << " ms, max " << b.s.max
              << " ms, " << std::setprecision(0) << b.per_s << " commits/s" << std::endl;
  }
  return 0;
}

// ---- the workload -----------------------------------------------------------------------------

struct run_options {
  std::string broker_url = config::default_client_url();
  std::string consumer_url; // empty: broker_url (another node measures a bridged path)
  std::string destination = "queue://bench";
  uint32_t producers = 1;
  uint32_t consumers = 1;
  uint64_t messages = 10000;
  uint64_t size = 1024;
  std::string persistent = "true";
  uint32_t async_window = 0;
  bool transacted = false;               // producers send in local transactions
  uint64_t transaction_batch_size = 100; // ... committing every this many messages
  double rate = 0;
  std::string ack_mode = "AUTO";
  uint32_t prefetch = config::default_prefetch;
  bool json = false;
  int node_pid = 0;
  double timeout_s = 60;
  bool quiet = false;
  std::string label;
  std::string device;
  bool durable = false; // subscribers are durable subscriptions
  std::string client_id_prefix = "actormq-bench-";
  bool keep_subscriptions = false; // ... not removed at the end
  bool store_growth = false;       // ... offline while the producers send (see the top)
  std::string metrics_url;         // the node's /metrics (console), for --storeGrowth

  bool topic() const { return destination.rfind("topic://", 0) == 0; }
  // Deliveries the consumers must see: on a topic every subscriber gets every message.
  uint64_t expected() const { return topic() ? messages * consumers : messages; }
};

struct shared_state {
  const run_options& o;
  bool persistent = true;
  client::ack_mode mode = client::ack_mode::auto_acknowledge;
  std::string run_id;
  std::string body;

  // Set-up barrier: every connection open and every consumer confirmed before producers start.
  std::mutex m;
  std::condition_variable cv;
  uint32_t ready = 0;
  bool go = false;
  bool abort_setup = false;
  clock_type::time_point start;

  std::atomic<bool> stop{false};
  std::atomic<bool> failed{false};
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> received{0};    // messages of this run, first delivery of each id
  std::atomic<uint64_t> duplicates{0};  // an id received again
  std::atomic<uint64_t> redelivered{0}; // messages marked redelivered by the node
  std::atomic<uint64_t> stale{0};       // messages of other runs (left in the queue)
  std::atomic<uint32_t> producers_done{0};
  // --storeGrowth: the subscribers open their consumers again once this is set.
  std::mutex drain_m;
  std::condition_variable drain_cv;
  bool drain = false;
  std::vector<std::atomic<uint8_t>> seen; // per message id (and subscriber, on a topic)

  std::mutex err_m;
  std::vector<std::string> errors;

  std::mutex end_m;
  clock_type::time_point last_send_done{};
  clock_type::time_point last_receive{};

  explicit shared_state(const run_options& opts) : o(opts), seen(opts.expected()) {}

  void error(const std::string& what) {
    {
      std::lock_guard<std::mutex> g(err_m);
      errors.push_back(what);
    }
    failed = true;
    stop = true;
    std::lock_guard<std::mutex> g(m);
    abort_setup = true;
    cv.notify_all();
  }

  // Returns false if the run was aborted during set-up.
  bool arrive_and_wait() {
    std::unique_lock<std::mutex> g(m);
    ++ready;
    cv.notify_all();
    cv.wait(g, [&] { return go || abort_setup; });
    return go && !abort_setup;
  }
};

client::connection_options conn_options() {
  client::connection_options c;
  c.request_timeout = milliseconds(60000);
  return c;
}

void producer_thread(shared_state& s, uint32_t index, uint64_t first_id, uint64_t count) {
  const auto& o = s.o;
  std::string who = "producer " + std::to_string(index);
  auto conn = client::connection::open(o.broker_url, conn_options());
  if (!conn) {
    s.error(who + ": " + conn.message());
    s.arrive_and_wait();
    return;
  }
  client::producer_options po;
  po.persistent = s.persistent;
  po.async_window = o.async_window;
  po.transacted = o.transacted;
  auto prod = (*conn)->create_producer(o.destination, po);
  if (!prod) {
    s.error(who + ": " + prod.message());
    s.arrive_and_wait();
    return;
  }
  if (!s.arrive_and_wait())
    return;
  // Fixed rate: message k of this producer is due at start + offset + k * interval (the clock
  // paces, so a late send is followed by its successors at once, without drift).
  std::chrono::nanoseconds interval{0}, offset{0};
  if (o.rate > 0) {
    double per_producer = o.rate / static_cast<double>(o.producers);
    interval = std::chrono::nanoseconds(static_cast<int64_t>(1e9 / per_producer));
    offset = std::chrono::nanoseconds(static_cast<int64_t>(1e9 / o.rate * index));
  }
  client::properties props{{prop_run, s.run_id}, {prop_id, ""}, {prop_time, ""}};
  for (uint64_t k = 0; k < count && !s.stop; ++k) {
    if (o.rate > 0)
      std::this_thread::sleep_until(s.start + offset + interval * static_cast<int64_t>(k));
    props[prop_id] = std::to_string(first_id + k);
    props[prop_time] = std::to_string(now_ns());
    auto r = (*prod)->send(s.body, props);
    if (!r) {
      s.error(who + ": send of message " + std::to_string(first_id + k) +
              " failed: " + r.message());
      return;
    }
    s.sent.fetch_add(1, std::memory_order_relaxed);
    if (o.transacted && ((k + 1) % o.transaction_batch_size == 0 || k + 1 == count)) {
      if (auto c = (*conn)->commit(); !c) {
        s.error(who + ": the commit after message " + std::to_string(first_id + k) +
                " failed: " + c.message());
        return;
      }
    }
  }
  if (auto f = (*prod)->flush(); !f) {
    s.error(who + ": " + f.message());
    return;
  }
  {
    std::lock_guard<std::mutex> g(s.end_m);
    s.last_send_done = std::max(s.last_send_done, clock_type::now());
  }
  s.producers_done.fetch_add(1);
  if (auto c = (*conn)->close(); !c)
    s.error(who + ": close: " + c.message());
}

void consumer_thread(shared_state& s, uint32_t index, std::vector<int64_t>& latencies) {
  const auto& o = s.o;
  std::string who = "consumer " + std::to_string(index);
  auto copts = conn_options();
  if (o.durable)
    copts.client_id = o.client_id_prefix + std::to_string(index);
  auto conn =
      client::connection::open(o.consumer_url.empty() ? o.broker_url : o.consumer_url, copts);
  if (!conn) {
    s.error(who + ": " + conn.message());
    s.arrive_and_wait();
    return;
  }
  client::consumer_options co;
  co.mode = s.mode;
  co.prefetch = o.prefetch;
  co.durable = o.durable;
  co.subscription_name = o.durable ? durable_subscription_name : "";
  auto cons = (*conn)->create_consumer(o.destination, co);
  if (!cons) {
    s.error(who + ": " + cons.message());
    s.arrive_and_wait();
    return;
  }
  // The subscription exists; while the producers send it keeps everything (--storeGrowth).
  bool consumer_open = true;
  if (o.store_growth) {
    consumer_open = false;
    if (auto c = (*cons)->close(); !c) {
      s.error(who + ": close consumer: " + c.message());
      s.arrive_and_wait();
      return;
    }
  }
  latencies.reserve(o.expected() / std::max<uint32_t>(1, o.consumers) + 1024);
  // On a topic each subscriber has its own range of ids in `seen`.
  const uint64_t seen_base = o.topic() ? uint64_t{index} * o.messages : 0;
  if (!s.arrive_and_wait())
    return;
  if (o.store_growth) {
    {
      std::unique_lock<std::mutex> g(s.drain_m);
      s.drain_cv.wait(g, [&] { return s.drain || s.stop.load(); });
    }
    if (!s.stop) {
      cons = (*conn)->create_consumer(o.destination, co);
      if (!cons) {
        s.error(who + ": " + cons.message());
        return;
      }
      consumer_open = true;
    }
  }
  while (!s.stop) {
    auto r = (*cons)->receive(milliseconds(100));
    if (!r) {
      s.error(who + ": " + r.message());
      return;
    }
    if (!*r)
      continue;
    const auto& msg = **r;
    auto t = now_ns();
    if (msg.redelivered)
      s.redelivered.fetch_add(1, std::memory_order_relaxed);
    auto run = msg.properties.find(prop_run);
    auto id = msg.properties.find(prop_id);
    auto sent = msg.properties.find(prop_time);
    if (run == msg.properties.end() || run->second != s.run_id || id == msg.properties.end() ||
        sent == msg.properties.end()) {
      s.stale.fetch_add(1, std::memory_order_relaxed);
    } else {
      uint64_t n = std::strtoull(id->second.c_str(), nullptr, 10);
      if (n >= o.messages || s.seen[seen_base + n].exchange(1) != 0) {
        s.duplicates.fetch_add(1, std::memory_order_relaxed);
      } else {
        latencies.push_back(t - std::strtoll(sent->second.c_str(), nullptr, 10));
        auto got = s.received.fetch_add(1, std::memory_order_relaxed) + 1;
        if (got == o.expected()) {
          std::lock_guard<std::mutex> g(s.end_m);
          s.last_receive = clock_type::now();
          s.stop = true;
        }
      }
    }
    if (s.mode != client::ack_mode::auto_acknowledge) {
      if (auto a = (*cons)->acknowledge(msg); !a) {
        s.error(who + ": acknowledge: " + a.message());
        return;
      }
    }
  }
  if (consumer_open)
    if (auto c = (*cons)->close(); !c)
      s.error(who + ": close consumer: " + c.message());
  if (o.durable && !o.keep_subscriptions)
    if (auto u = (*conn)->unsubscribe(durable_subscription_name); !u)
      s.error(who + ": unsubscribe: " + u.message());
  if (auto c = (*conn)->close(); !c)
    s.error(who + ": close: " + c.message());
}

std::string fmt(double v, int precision) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(precision) << v;
  return out.str();
}

int run_workload(const run_options& o) {
  shared_state s(o);
  if (auto persistent = parse_bool(o.persistent)) {
    s.persistent = *persistent;
  } else {
    std::cerr << "actormq-bench: --persistent takes true or false, not '" << o.persistent << "'"
              << std::endl;
    return 2;
  }
  std::string mode(o.ack_mode);
  std::transform(mode.begin(), mode.end(), mode.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (mode == "AUTO" || mode == "AUTO_ACKNOWLEDGE")
    s.mode = client::ack_mode::auto_acknowledge;
  else if (mode == "CLIENT" || mode == "CLIENT_ACKNOWLEDGE")
    s.mode = client::ack_mode::client_acknowledge;
  else if (mode == "INDIVIDUAL" || mode == "INDIVIDUAL_ACKNOWLEDGE")
    s.mode = client::ack_mode::individual_acknowledge;
  else {
    std::cerr << "actormq-bench: --ackMode takes AUTO, CLIENT or INDIVIDUAL, not '" << o.ack_mode
              << "'" << std::endl;
    return 2;
  }
  if (o.durable && !o.topic()) {
    std::cerr << "actormq-bench: --durable needs a topic (--destination topic://name)" << std::endl;
    return 2;
  }
  if (o.store_growth && (!o.durable || o.metrics_url.empty())) {
    std::cerr << "actormq-bench: --storeGrowth needs --durable and --metricsUrl" << std::endl;
    return 2;
  }
  if (o.producers == 0 && o.messages > 0) {
    std::cerr << "actormq-bench: --producers must be at least 1" << std::endl;
    return 2;
  }
  s.run_id = random_run_id();
  {
    static const char pattern[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    s.body.resize(o.size);
    for (uint64_t i = 0; i < o.size; ++i)
      s.body[i] = pattern[i % (sizeof(pattern) - 1)];
  }

  std::optional<uint64_t> rss_before, rss_after;
  auto sample_rss = [&] {
    if (o.node_pid <= 0)
      return std::optional<uint64_t>{};
    return proc_status_kib(o.node_pid, "RssAnon");
  };
  rss_before = sample_rss();
  if (o.node_pid > 0 && !rss_before)
    std::cerr << "actormq-bench: cannot read RssAnon of pid " << o.node_pid << std::endl;
  auto load_before = loadavg();
  auto busy_before = machine_busy_ticks();
  auto self_before = process_ticks(0);
  auto node_before = o.node_pid > 0 ? process_ticks(o.node_pid) : std::optional<uint64_t>{};
  auto wall_before = clock_type::now();
  std::optional<disk_counters> disk_before;
  if (!o.device.empty()) {
    disk_before = read_diskstats(o.device);
    if (!disk_before)
      std::cerr << "actormq-bench: no flush counts for device " << o.device << " in /proc/diskstats"
                << std::endl;
  }

  std::vector<std::vector<int64_t>> latencies(o.consumers);
  std::vector<std::thread> threads;
  // Consumers first, then producers; producers wait at the barrier until everyone is ready.
  for (uint32_t c = 0; c < o.consumers; ++c)
    threads.emplace_back(consumer_thread, std::ref(s), c, std::ref(latencies[c]));
  uint64_t base = o.producers ? o.messages / o.producers : 0;
  uint64_t extra = o.producers ? o.messages % o.producers : 0;
  uint64_t next_id = 0;
  for (uint32_t p = 0; p < o.producers; ++p) {
    uint64_t n = base + (p < extra ? 1 : 0);
    threads.emplace_back(producer_thread, std::ref(s), p, next_id, n);
    next_id += n;
  }
  uint32_t participants = o.producers + o.consumers;
  std::optional<uint64_t> store_before, store_after;
  clock_type::time_point drain_start{};
  {
    std::unique_lock<std::mutex> g(s.m);
    bool ready = s.cv.wait_for(g, std::chrono::seconds(60),
                               [&] { return s.ready == participants || s.abort_setup; });
    if (!ready) {
      s.abort_setup = true;
      s.errors.push_back("set-up (connections, consumers) did not finish within 60 s");
    }
    if (o.store_growth && !s.abort_setup) {
      std::string why;
      store_before = actormq::bench::settled_store_used_bytes(o.metrics_url, why);
      if (!store_before) {
        s.abort_setup = true;
        s.errors.push_back("store size before the sends: " + why);
      }
    }
    s.start = clock_type::now();
    s.go = !s.abort_setup;
    s.cv.notify_all();
  }

  // Progress and stall detection.
  auto last_print = clock_type::now();
  uint64_t last_progress_count = 0, last_print_sent = 0, last_print_recv = 0;
  auto last_progress = clock_type::now();
  bool stalled = false;
  const bool has_consumers = o.consumers > 0;
  while (s.go) {
    std::this_thread::sleep_for(milliseconds(50));
    bool done =
        has_consumers ? s.received.load() >= o.expected() : s.producers_done.load() == o.producers;
    if (done || s.failed.load())
      break;
    if (o.store_growth && !store_after && s.producers_done.load() == o.producers) {
      std::string why;
      store_after = actormq::bench::settled_store_used_bytes(o.metrics_url, why);
      if (!store_after) {
        s.error("store size after the sends: " + why);
        break;
      }
      drain_start = clock_type::now();
      last_progress = drain_start;
      std::lock_guard<std::mutex> g(s.drain_m);
      s.drain = true;
      s.drain_cv.notify_all();
    }
    auto now = clock_type::now();
    uint64_t progress = s.sent.load() + s.received.load();
    if (progress != last_progress_count) {
      last_progress_count = progress;
      last_progress = now;
    } else if (seconds_between(last_progress, now) > o.timeout_s) {
      stalled = true;
      s.stop = true;
      break;
    }
    if (!o.quiet && seconds_between(last_print, now) >= 0.5) {
      double dt = seconds_between(last_print, now);
      uint64_t sent = s.sent.load(), recv = s.received.load();
      std::cerr << "\rsent " << sent << "/" << o.messages << "  received " << recv << "/"
                << o.expected() << "  " << std::fixed << std::setprecision(0)
                << (static_cast<double>(sent - last_print_sent) / dt) << " sent/s  "
                << (static_cast<double>(recv - last_print_recv) / dt) << " received/s   "
                << std::flush;
      last_print = now;
      last_print_sent = sent;
      last_print_recv = recv;
    }
  }
  if (!o.quiet)
    std::cerr << "\r" << std::string(100, ' ') << "\r" << std::flush;
  s.stop = true;
  {
    std::lock_guard<std::mutex> g(s.drain_m);
    s.drain_cv.notify_all();
  }
  for (auto& t : threads)
    t.join();
  auto end_all = clock_type::now();

  // CPU: the node's, this tool's, and everyone else's (the machine's busy time minus both), in
  // percent of one core over the run.
  double wall = seconds_between(wall_before, clock_type::now());
  double ticks_per_s = static_cast<double>(::sysconf(_SC_CLK_TCK));
  auto pct = [&](uint64_t ticks) {
    return static_cast<double>(ticks) / ticks_per_s / wall * 100.0;
  };
  std::optional<double> cpu_self, cpu_node, cpu_other;
  {
    auto busy = machine_busy_ticks();
    auto self = process_ticks(0);
    auto node = o.node_pid > 0 ? process_ticks(o.node_pid) : std::optional<uint64_t>{};
    if (self && self_before)
      cpu_self = pct(*self - *self_before);
    if (node && node_before)
      cpu_node = pct(*node - *node_before);
    if (busy && busy_before && cpu_self) {
      double other = pct(*busy - *busy_before) - *cpu_self - cpu_node.value_or(0);
      cpu_other = std::max(0.0, other);
    }
  }
  auto pct_text = [](std::optional<double> v) { return v ? fmt(*v, 0) : std::string("null"); };

  std::optional<disk_counters> disk_delta;
  if (disk_before) {
    if (auto now = read_diskstats(o.device))
      disk_delta =
          disk_counters{now->flushes - disk_before->flushes, now->writes - disk_before->writes};
  }

  // RSS after the run: give the node a moment to process the final acks and closes.
  if (o.node_pid > 0) {
    std::this_thread::sleep_for(milliseconds(300));
    rss_after = sample_rss();
  }

  // Pending count of the destination after the run (one more connection).
  std::optional<uint64_t> pending_after;
  if (s.go) {
    if (auto conn = client::connection::open(o.broker_url, conn_options()); conn) {
      if (auto st = (*conn)->stats(); st) {
        std::string canonical = o.destination.find("://") != std::string::npos
                                    ? o.destination
                                    : "queue://" + o.destination;
        for (const auto& d : *st)
          if (d.name == canonical)
            pending_after = d.pending;
      }
      (void)(*conn)->close();
    }
  }

  std::vector<int64_t> all;
  size_t total = 0;
  for (auto& v : latencies)
    total += v.size();
  all.reserve(total);
  for (auto& v : latencies)
    all.insert(all.end(), v.begin(), v.end());
  auto lat = summarize_ns(all);

  uint64_t sent = s.sent.load(), received = s.received.load();
  auto send_end = s.last_send_done == clock_type::time_point{} ? end_all : s.last_send_done;
  auto recv_end = s.last_receive == clock_type::time_point{} ? end_all : s.last_receive;
  double send_s = seconds_between(s.start, send_end);
  // --storeGrowth: the subscribers received only once the sends were done.
  double recv_s = seconds_between(
      o.store_growth && drain_start != clock_type::time_point{} ? drain_start : s.start, recv_end);
  std::optional<double> store_per_message;
  if (store_before && store_after && sent > 0)
    store_per_message = (static_cast<double>(*store_after) - static_cast<double>(*store_before)) /
                        static_cast<double>(sent);
  double sent_rate = send_s > 0 ? static_cast<double>(sent) / send_s : 0;
  double recv_rate = recv_s > 0 ? static_cast<double>(received) / recv_s : 0;

  std::vector<std::string> problems;
  {
    std::lock_guard<std::mutex> g(s.err_m);
    problems = s.errors;
  }
  if (stalled)
    problems.push_back(
        "no progress for " + fmt(o.timeout_s, 0) + " s: " + std::to_string(sent) + " of " +
        std::to_string(o.messages) + " sent, " + std::to_string(received) + " received, " +
        std::to_string(o.expected() - std::min(o.expected(), received)) + " missing");
  else if (has_consumers && problems.empty() && received < o.expected())
    problems.push_back(std::to_string(o.expected() - received) + " messages missing");
  if (s.duplicates.load() > 0)
    problems.push_back(std::to_string(s.duplicates.load()) + " messages received twice");

  if (!s.go) { // set-up failed (no connection, no consumer): nothing was measured
    for (const auto& p : problems)
      std::cerr << "actormq-bench: " << p << std::endl;
    return 1;
  }

  auto mib = [](std::optional<uint64_t> kib) {
    return kib ? fmt(static_cast<double>(*kib) / 1024.0, 1) : std::string("null");
  };
  const char* persistence = s.persistent ? "persistent" : "non-persistent";
  if (o.json) {
    std::ostringstream j;
    j << "{\"label\":\"" << json_escape(o.label) << "\",\"broker_url\":\""
      << json_escape(o.broker_url) << "\",\"destination\":\"" << json_escape(o.destination)
      << "\",\"producers\":" << o.producers << ",\"consumers\":" << o.consumers
      << ",\"messages\":" << o.messages << ",\"size\":" << o.size
      << ",\"persistent\":" << (s.persistent ? "true" : "false")
      << ",\"async_window\":" << o.async_window << ",\"rate\":" << fmt(o.rate, 1)
      << ",\"ack_mode\":\"" << json_escape(mode) << "\",\"prefetch\":" << o.prefetch
      << ",\"sent\":" << sent << ",\"received\":" << received
      << ",\"duplicates\":" << s.duplicates.load() << ",\"redelivered\":" << s.redelivered.load()
      << ",\"stale\":" << s.stale.load() << ",\"send_seconds\":" << fmt(send_s, 3)
      << ",\"receive_seconds\":" << fmt(recv_s, 3) << ",\"sent_per_s\":" << fmt(sent_rate, 1)
      << ",\"received_per_s\":" << fmt(recv_rate, 1)
      << ",\"latency_ms\":{\"samples\":" << lat.samples << ",\"mean\":" << fmt(lat.mean, 3)
      << ",\"p50\":" << fmt(lat.p50, 3) << ",\"p90\":" << fmt(lat.p90, 3)
      << ",\"p99\":" << fmt(lat.p99, 3) << ",\"p99_9\":" << fmt(lat.p999, 3)
      << ",\"max\":" << fmt(lat.max, 3) << "}"
      << ",\"pending_after\":"
      << (pending_after ? std::to_string(*pending_after) : std::string("null"))
      << ",\"cpu_pct_bench\":" << pct_text(cpu_self) << ",\"cpu_pct_node\":" << pct_text(cpu_node)
      << ",\"cpu_pct_other\":" << pct_text(cpu_other) << ",\"device_flushes\":"
      << (disk_delta ? std::to_string(disk_delta->flushes) : std::string("null"))
      << ",\"device_writes\":"
      << (disk_delta ? std::to_string(disk_delta->writes) : std::string("null"))
      << ",\"node_pid\":" << o.node_pid << ",\"rss_anon_mib_before\":" << mib(rss_before)
      << ",\"rss_anon_mib_after\":" << mib(rss_after) << ",\"load_before\":\"" << load_before
      << "\",\"load_after\":\"" << loadavg() << "\",\"durable\":" << (o.durable ? "true" : "false")
      << ",\"store_used_bytes_before\":"
      << (store_before ? std::to_string(*store_before) : std::string("null"))
      << ",\"store_used_bytes_after\":"
      << (store_after ? std::to_string(*store_after) : std::string("null"))
      << ",\"store_bytes_per_message\":"
      << (store_per_message ? fmt(*store_per_message, 1) : std::string("null"))
      << ",\"ok\":" << (problems.empty() ? "true" : "false") << ",\"errors\":[";
    for (size_t i = 0; i < problems.size(); ++i)
      j << (i ? "," : "") << "\"" << json_escape(problems[i]) << "\"";
    j << "]}";
    std::cout << j.str() << std::endl;
  } else {
    std::ostringstream t;
    t << "actormq-bench: " << o.producers << " producer(s) + " << o.consumers << " consumer(s), "
      << o.messages << " " << persistence << " messages of " << o.size << " B to " << o.destination
      << " at " << o.broker_url;
    if (o.async_window)
      t << ", async window " << o.async_window;
    if (o.transacted)
      t << ", transacted (a commit every " << o.transaction_batch_size << " messages)";
    if (o.rate > 0)
      t << ", " << fmt(o.rate, 0) << " msg/s";
    t << ", ack " << mode << ", prefetch " << o.prefetch;
    if (o.durable)
      t << ", durable subscriptions" << (o.store_growth ? " (offline during the sends)" : "");
    t << "\n";
    t << "  load average before: " << load_before << ", after: " << loadavg() << "\n";
    t << "  | measure | value |\n  | --- | --- |\n";
    t << "  | sent | " << sent << " in " << fmt(send_s, 3) << " s: " << fmt(sent_rate, 0)
      << " msg/s |\n";
    if (has_consumers) {
      t << "  | received | " << received << " in " << fmt(recv_s, 3) << " s: " << fmt(recv_rate, 0)
        << " msg/s |\n";
      t << "  | latency p50 / p90 / p99 / p99.9 / max | " << fmt(lat.p50, 3) << " / "
        << fmt(lat.p90, 3) << " / " << fmt(lat.p99, 3) << " / " << fmt(lat.p999, 3) << " / "
        << fmt(lat.max, 3) << " ms |\n";
      t << "  | duplicates / redelivered / other runs' messages | " << s.duplicates.load() << " / "
        << s.redelivered.load() << " / " << s.stale.load() << " |\n";
    }
    if (pending_after)
      t << "  | pending in the queue after the run | " << *pending_after << " |\n";
    if (store_per_message)
      t << "  | store used bytes before / after the sends, per message (" << o.consumers
        << " durable subscriptions, " << o.size << " B bodies) | " << *store_before << " / "
        << *store_after << ", " << fmt(*store_per_message, 1) << " B |\n";
    t << "  | CPU (% of one core) bench / node / other processes | " << pct_text(cpu_self) << " / "
      << (o.node_pid > 0 ? pct_text(cpu_node) : std::string("-")) << " / " << pct_text(cpu_other)
      << (o.node_pid > 0 ? "" : " (other includes the node)") << " |\n";
    if (disk_delta)
      t << "  | flushes / writes completed by " << o.device << " during the run | "
        << disk_delta->flushes << " / " << disk_delta->writes << " |\n";
    if (o.node_pid > 0)
      t << "  | node RssAnon before / after | " << mib(rss_before) << " / " << mib(rss_after)
        << " MiB |\n";
    std::cout << t.str() << std::flush;
  }
  for (const auto& p : problems)
    std::cerr << "actormq-bench: " << p << std::endl;
  return problems.empty() ? 0 : 1;
}

// ---- the startup mode -------------------------------------------------------------------------

struct startup_options {
  uint16_t port = 0;
  std::string log;
  double timeout_s = 30;
  bool json = false;
  std::vector<std::string> command;
};

bool port_accepts(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

// Starts the command, measures the time from exec to the port accepting a TCP connection, then
// stops the process (SIGTERM, SIGKILL after 10 s) and reports both.
int run_startup(const startup_options& o) {
  if (o.command.empty()) {
    std::cerr << "actormq-bench startup: give the node's command after --" << std::endl;
    return 2;
  }
  if (port_accepts(o.port)) {
    std::cerr << "actormq-bench startup: port " << o.port << " accepts connections already"
              << std::endl;
    return 1;
  }
  std::vector<char*> argv;
  for (const auto& a : o.command)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  auto t0 = clock_type::now();
  pid_t pid = ::fork();
  if (pid < 0) {
    std::cerr << "actormq-bench startup: fork: " << std::strerror(errno) << std::endl;
    return 1;
  }
  if (pid == 0) {
    if (!o.log.empty()) {
      int fd = ::open(o.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        ::close(fd);
      }
    }
    ::execvp(argv[0], argv.data());
    std::_Exit(127);
  }
  std::optional<double> listening_ms;
  int status = 0;
  bool exited = false;
  while (seconds_between(t0, clock_type::now()) < o.timeout_s) {
    if (port_accepts(o.port)) {
      listening_ms = std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
      break;
    }
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  std::optional<uint64_t> rss;
  if (listening_ms) {
    std::this_thread::sleep_for(milliseconds(500));
    rss = proc_status_kib(pid, "RssAnon");
  }
  if (!exited) {
    ::kill(pid, SIGTERM);
    auto deadline = clock_type::now() + std::chrono::seconds(10);
    while (::waitpid(pid, &status, WNOHANG) != pid) {
      if (clock_type::now() > deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        break;
      }
      std::this_thread::sleep_for(milliseconds(5));
    }
  }
  if (!listening_ms) {
    std::cerr << "actormq-bench startup: port " << o.port << " did not accept connections "
              << (exited ? "before the process exited" : "within the timeout") << std::endl;
    return 1;
  }
  std::string rss_text = rss ? fmt(static_cast<double>(*rss) / 1024.0, 1) : std::string("null");
  if (o.json)
    std::cout << "{\"mode\":\"startup\",\"listening_ms\":" << fmt(*listening_ms, 1)
              << ",\"rss_anon_mib_idle\":" << rss_text << ",\"load\":\"" << loadavg() << "\"}"
              << std::endl;
  else
    std::cout << "exec to port " << o.port << " accepting: " << fmt(*listening_ms, 1)
              << " ms; RssAnon 0.5 s later: " << rss_text << " MiB (load " << loadavg() << ")"
              << std::endl;
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"actormq-bench: throughput and latency of an ActorMQ node"};
  run_options o;
  app.add_option("--brokerUrl", o.broker_url, "Broker URL: tcp://host:port")->capture_default_str();
  app.add_option("--consumerUrl", o.consumer_url,
                 "Consumers connect here instead (e.g. a node bridged to the producers' node)");
  app.add_option("--destination", o.destination,
                 "queue://name, or topic://name (every consumer subscribes and gets every "
                 "message)")
      ->capture_default_str();
  app.add_option("--producers", o.producers, "Producer threads (one connection each)")
      ->capture_default_str();
  app.add_option("--consumers", o.consumers,
                 "Consumer threads (one connection each); 0 = produce only")
      ->capture_default_str();
  app.add_option("--subscribers", o.consumers, "The same as --consumers (for a topic)");
  app.add_option("--messages", o.messages, "Messages in total (split over the producers)")
      ->capture_default_str();
  app.add_option("--size", o.size, "Body size in bytes")->capture_default_str();
  app.add_option("--persistent", o.persistent, "true|false")->capture_default_str();
  app.add_option("--asyncWindow", o.async_window,
                 "Persistent sends in flight per producer (0 = each send waits for its receipt)")
      ->capture_default_str();
  app.add_flag("--transacted", o.transacted,
               "Producers send in local transactions (docs/transactions.md)");
  app.add_option("--transactionBatchSize", o.transaction_batch_size,
                 "With --transacted: messages per commit")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--rate", o.rate,
                 "Total send rate in msg/s, paced by the clock (0 = as fast as possible)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--ackMode", o.ack_mode, "AUTO|CLIENT|INDIVIDUAL")->capture_default_str();
  app.add_option("--prefetch", o.prefetch, "Consumer prefetch")->capture_default_str();
  app.add_option("--nodePid", o.node_pid, "Sample this process's RssAnon before and after");
  app.add_option("--timeout", o.timeout_s,
                 "Fail when nothing was sent or received for this many seconds")
      ->capture_default_str();
  app.add_option("--device", o.device,
                 "Block device (e.g. vda) whose flushes and writes during the run are reported "
                 "(every process's, from /proc/diskstats)");
  app.add_flag("--durable", o.durable,
               "On a topic: each subscriber is a durable subscription (client id "
               "--clientIdPrefix + index, name \"bench\"), made before the producers start");
  app.add_option("--clientIdPrefix", o.client_id_prefix, "With --durable: client ids' prefix")
      ->capture_default_str();
  app.add_flag("--keepSubscriptions", o.keep_subscriptions,
               "With --durable: leave the subscriptions at the end (default: unsubscribe)");
  app.add_flag("--storeGrowth", o.store_growth,
               "With --durable: subscribers are offline during the sends; report the store's "
               "growth per message (needs --metricsUrl)");
  app.add_option("--metricsUrl", o.metrics_url,
                 "The node's /metrics, e.g. http://127.0.0.1:8161/metrics (--storeGrowth)");
  app.add_option("--label", o.label, "A name echoed in the JSON output");
  app.add_flag("--json", o.json, "Print one JSON object on stdout instead of the table");
  app.add_flag("--quiet", o.quiet, "No progress line");

  disk_options d;
  auto* disk = app.add_subcommand("disk", "Measure this disk's synced-commit time");
  disk->add_option("--dir", d.dir, "A folder on the disk to measure")->required();
  disk->add_option("--count", d.count, "Synced commits to time")->capture_default_str();
  disk->add_flag("--json", d.json, "Print one JSON object on stdout");

  startup_options so;
  auto* startup = app.add_subcommand(
      "startup", "Start a node, time exec to its port accepting connections, stop it");
  startup->add_option("--port", so.port, "The node's client port")->required();
  startup->add_option("--log", so.log, "Write the node's output to this file");
  startup->add_option("--timeout", so.timeout_s, "Give up after this many seconds")
      ->capture_default_str();
  startup->add_flag("--json", so.json, "Print one JSON object on stdout");
  startup->add_option("command", so.command, "The node's command line (after --)")->required();

  CLI11_PARSE(app, argc, argv);
  if (disk->parsed())
    return run_disk(d);
  if (startup->parsed())
    return run_startup(so);
  return run_workload(o);
}
