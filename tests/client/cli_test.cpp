// The actormq command line against a fake broker: options, stdout/stderr discipline, exit codes.
#include "fake_broker.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <sstream>
#include <string>
#include <vector>

using namespace actormq;
using namespace std::chrono_literals;
using testing::fake_broker;

namespace {

struct run_result {
  int status = -1; // exit code; -1 if killed
  std::string out;
  std::string err;
};

// Runs the CLI with `args`, killing it after `timeout`.
run_result run_cli(std::vector<std::string> args, std::chrono::milliseconds timeout = 10s) {
  args.insert(args.begin(), ACTORMQ_CLI_PATH);
  int out_pipe[2];
  int err_pipe[2];
  REQUIRE(::pipe2(out_pipe, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(err_pipe, O_CLOEXEC) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  run_result r;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open = 2;
  bool killed = false;
  while (open > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      killed = true;
      break;
    }
    if (::poll(fds, 2, static_cast<int>(left.count())) <= 0)
      continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP)))
        continue;
      char buffer[4096];
      auto n = ::read(fds[i].fd, buffer, sizeof(buffer));
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open;
        continue;
      }
      (i == 0 ? r.out : r.err).append(buffer, static_cast<size_t>(n));
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0)
      ::close(f.fd);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.status = !killed && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

// Dispatches `bodies` to the first consumer that opens (after answering its OpenConsumer).
void serve_messages(fake_broker& broker, std::vector<std::string> bodies,
                    std::vector<bool> redelivered = {}) {
  broker.set_hook([bodies, redelivered](fake_broker& b, const wire::Frame& f) {
    if (!f.has_open_consumer())
      return false;
    b.receipt(f.correlation_id());
    for (size_t i = 0; i < bodies.size(); ++i)
      b.dispatch(f.open_consumer().consumer_id(), i + 1, bodies[i],
                 i < redelivered.size() && redelivered[i]);
    return true;
  });
}

} // namespace

TEST_CASE("actormq producer sends textMessage:i and keeps stdout empty", "[cli]") {
  fake_broker broker;
  auto r = run_cli({"producer", "--brokerUrl", broker.url(), "--messageCount", "5"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.empty());
  CHECK(r.err.find("Produced 5 messages") != std::string::npos);
  auto sends = broker.frames(wire::Frame::kSend);
  REQUIRE(sends.size() == 5);
  for (size_t i = 0; i < sends.size(); ++i) {
    CHECK(sends[i].send().message().body() == "textMessage:" + std::to_string(i));
    CHECK(sends[i].send().message().destination() == "queue://TEST");
    CHECK(sends[i].send().message().persistent());
    CHECK(sends[i].correlation_id() != 0);
  }
}

TEST_CASE("actormq producer takes --persistent false, --messageSize and --asyncWindow", "[cli]") {
  fake_broker broker;
  auto r = run_cli({"producer", "--brokerUrl", broker.url(), "--destination", "orders",
                    "--messageCount", "3", "--persistent", "false", "--messageSize", "10"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  REQUIRE(broker.wait_count(wire::Frame::kSend, 3));
  for (auto& f : broker.frames(wire::Frame::kSend)) {
    CHECK_FALSE(f.send().message().persistent());
    CHECK(f.correlation_id() == 0);
    CHECK(f.send().message().body().size() == 10);
    CHECK(f.send().message().destination() == "queue://orders");
  }

  fake_broker second;
  auto windowed = run_cli({"producer", "--brokerUrl", second.url(), "--messageCount", "20",
                           "--asyncWindow", "4", "--message", "hello", "--msgTTL", "1000"});
  INFO(windowed.err);
  REQUIRE(windowed.status == 0);
  auto sends = second.frames(wire::Frame::kSend);
  REQUIRE(sends.size() == 20);
  CHECK(sends[19].send().message().body() == "hello");
  CHECK(sends[19].send().message().expiration_ms() > 0);

  auto bad = run_cli({"producer", "--brokerUrl", second.url(), "--persistent", "maybe"});
  CHECK(bad.status != 0);
  CHECK(bad.err.find("--persistent") != std::string::npos);
}

TEST_CASE("actormq producer reports a refused send", "[cli]") {
  fake_broker broker;
  broker.set_hook([](fake_broker& b, const wire::Frame& f) {
    if (!f.has_send())
      return false;
    b.error(f.correlation_id(), wire::ERROR_STORE_FULL, "store full");
    return true;
  });
  auto r = run_cli({"producer", "--brokerUrl", broker.url(), "--messageCount", "2"});
  CHECK(r.status != 0);
  CHECK(r.out.empty());
  CHECK(r.err.find("STORE_FULL") != std::string::npos);
  auto err = lines(r.err);
  REQUIRE_FALSE(err.empty());
  CHECK(err.back().find("Produced 0 messages") == 0); // the last line says how many made it
}

TEST_CASE("actormq consumer prints bodies, one a line, and acknowledges", "[cli]") {
  fake_broker broker;
  serve_messages(broker, {"a", "b", "c", "d"}, {false, true, false, false});
  auto r = run_cli({"consumer", "--brokerUrl", broker.url(), "--messageCount", "3", "--ackMode",
                    "CLIENT_ACKNOWLEDGE", "--batchSize", "2", "--printRedelivered"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(lines(r.out) == std::vector<std::string>{"a", "redelivered b", "c"});
  std::vector<uint64_t> acked;
  for (auto& f : broker.frames(wire::Frame::kAck))
    acked.insert(acked.end(), f.ack().delivery_keys().begin(), f.ack().delivery_keys().end());
  CHECK(acked == std::vector<uint64_t>{1, 2, 3});
  CHECK(broker.frames(wire::Frame::kCloseConsumer).size() == 1);
}

TEST_CASE("actormq consumer in auto mode acknowledges what it printed", "[cli]") {
  fake_broker broker;
  serve_messages(broker, {"x", "y"}, {false, true});
  auto r = run_cli({"consumer", "--brokerUrl", broker.url(), "--messageCount", "2"});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(lines(r.out) == std::vector<std::string>{"x", "y"}); // no prefix by default
  std::vector<uint64_t> acked;
  for (auto& f : broker.frames(wire::Frame::kAck))
    acked.insert(acked.end(), f.ack().delivery_keys().begin(), f.ack().delivery_keys().end());
  CHECK(acked == std::vector<uint64_t>{1, 2});
  auto opens = broker.frames(wire::Frame::kOpenConsumer);
  REQUIRE(opens.size() == 1);
  CHECK(opens[0].open_consumer().ack_mode() == wire::ACK_MODE_AUTO);
}

TEST_CASE("actormq consumer fails when --receiveTimeout passes without a message", "[cli]") {
  fake_broker broker;
  serve_messages(broker, {"only"});
  auto r = run_cli(
      {"consumer", "--brokerUrl", broker.url(), "--messageCount", "2", "--receiveTimeout", "200"});
  CHECK(r.status != 0);
  CHECK(lines(r.out) == std::vector<std::string>{"only"});
  CHECK(r.err.find("no message within 200 ms") != std::string::npos);
}

TEST_CASE("actormq consumer fails when the connection is lost", "[cli]") {
  fake_broker broker;
  broker.set_hook([](fake_broker& b, const wire::Frame& f) {
    if (!f.has_open_consumer())
      return false;
    b.receipt(f.correlation_id());
    b.dispatch(f.open_consumer().consumer_id(), 1, "one");
    b.drop();
    return true;
  });
  auto r = run_cli({"consumer", "--brokerUrl", broker.url(), "--messageCount", "5"});
  CHECK(r.status != 0);
  CHECK(r.err.find("receive failed") != std::string::npos);
}

TEST_CASE("actormq browse, dstat and purge", "[cli]") {
  fake_broker broker;
  broker.set_hook([](fake_broker& b, const wire::Frame& f) {
    wire::Frame reply;
    reply.set_correlation_id(f.correlation_id());
    if (f.has_browse()) {
      reply.mutable_browse_reply()->set_pending(2);
      reply.mutable_browse_reply()->add_messages()->mutable_message()->set_body("first");
      reply.mutable_browse_reply()->add_messages()->mutable_message()->set_body("second");
    } else if (f.has_stats_request()) {
      auto* s = reply.mutable_stats_reply()->add_destinations();
      s->set_name("queue://TEST");
      s->set_pending(2);
      s->set_consumers(1);
      s->set_enqueued(5);
      s->set_dequeued(3);
    } else if (f.has_purge()) {
      reply.mutable_receipt()->set_count(2);
    } else {
      return false;
    }
    b.send(reply);
    return true;
  });
  auto browsed = run_cli({"browse", "--brokerUrl", broker.url(), "--destination", "TEST"});
  INFO(browsed.err);
  REQUIRE(browsed.status == 0);
  CHECK(lines(browsed.out) == std::vector<std::string>{"first", "second"});

  auto dstat = run_cli({"dstat", "--brokerUrl", broker.url()});
  INFO(dstat.err);
  REQUIRE(dstat.status == 0);
  auto table = lines(dstat.out);
  REQUIRE(table.size() == 2);
  CHECK(table[0].find("Name") == 0);
  CHECK(table[0].find("Queue Size") != std::string::npos);
  CHECK(table[0].find("Consumers") != std::string::npos);
  CHECK(table[0].find("Enqueued") != std::string::npos);
  CHECK(table[0].find("Dequeued") != std::string::npos);
  std::istringstream row(table[1]);
  std::string name;
  uint64_t pending = 0, consumers = 0, enqueued = 0, dequeued = 0;
  row >> name >> pending >> consumers >> enqueued >> dequeued;
  CHECK(name == "queue://TEST");
  CHECK(pending == 2);
  CHECK(consumers == 1);
  CHECK(enqueued == 5);
  CHECK(dequeued == 3);

  auto purged = run_cli({"purge", "--brokerUrl", broker.url(), "--destination", "TEST"});
  INFO(purged.err);
  REQUIRE(purged.status == 0);
  CHECK(purged.out.empty());
  CHECK(purged.err.find("Purged 2 messages") != std::string::npos);
}

TEST_CASE("actormq rejects bad URLs, unknown options and a missing task", "[cli]") {
  auto url = run_cli({"producer", "--brokerUrl", "http://x:1"});
  CHECK(url.status != 0);
  CHECK(url.out.empty());
  CHECK(url.err.find("http://x:1") != std::string::npos);

  auto unknown = run_cli({"producer", "--frobnicate", "3"});
  CHECK(unknown.status != 0);
  CHECK(unknown.out.empty());

  auto none = run_cli({});
  CHECK(none.status != 0);

  auto mode = run_cli({"consumer", "--ackMode", "SOMETIMES"});
  CHECK(mode.status != 0);

  auto refused = run_cli({"dstat", "--brokerUrl", "tcp://127.0.0.1:1"});
  CHECK(refused.status != 0);
  CHECK(refused.err.find("cannot connect") != std::string::npos);
}
