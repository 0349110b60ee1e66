#include "tools/bench_store_growth.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <thread>

namespace actormq::bench {

namespace {

// A plain HTTP/1.0 GET; the body, or nothing with `why`.
std::optional<std::string> http_get(const std::string& url, std::string& why) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) {
    why = "the metrics URL must start with http:// (" + url + ")";
    return std::nullopt;
  }
  auto rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  auto host_port = rest.substr(0, slash);
  auto path = slash == std::string::npos ? std::string("/metrics") : rest.substr(slash);
  auto colon = host_port.rfind(':');
  auto host = host_port.substr(0, colon);
  auto port = colon == std::string::npos ? std::string("80") : host_port.substr(colon + 1);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
    why = "cannot resolve " + host_port;
    return std::nullopt;
  }
  int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol);
  timeval tv{10, 0};
  bool connected = fd >= 0 && ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0 &&
                   ::connect(fd, found->ai_addr, found->ai_addrlen) == 0;
  ::freeaddrinfo(found);
  if (!connected) {
    if (fd >= 0)
      ::close(fd);
    why = "cannot connect to " + host_port;
    return std::nullopt;
  }
  std::string request = "GET " + path + " HTTP/1.0\r\nHost: " + host_port + "\r\n\r\n";
  bool sent = ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
              static_cast<ssize_t>(request.size());
  std::string answer;
  char buf[16384];
  ssize_t n = 0;
  while (sent && (n = ::recv(fd, buf, sizeof(buf), 0)) > 0)
    answer.append(buf, static_cast<size_t>(n));
  ::close(fd);
  auto head_end = answer.find("\r\n\r\n");
  if (!sent || n < 0 || head_end == std::string::npos) {
    why = "no answer from " + url;
    return std::nullopt;
  }
  if (answer.compare(0, 12, "HTTP/1.1 200") != 0 && answer.compare(0, 12, "HTTP/1.0 200") != 0) {
    why = url + " answered " + answer.substr(0, answer.find("\r\n"));
    return std::nullopt;
  }
  return answer.substr(head_end + 4);
}

} // namespace

std::optional<double> read_metric(const std::string& url, const std::string& metric,
                                  std::string& why) {
  auto body = http_get(url, why);
  if (!body)
    return std::nullopt;
  std::istringstream lines(*body);
  std::string line;
  while (std::getline(lines, line))
    if (line.size() > metric.size() && line.compare(0, metric.size(), metric) == 0 &&
        line[metric.size()] == ' ')
      return std::strtod(line.c_str() + metric.size() + 1, nullptr);
  why = url + " has no " + metric;
  return std::nullopt;
}

std::optional<uint64_t> settled_store_used_bytes(const std::string& url, std::string& why,
                                                 int quiet_ms, int timeout_ms) {
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + std::chrono::milliseconds(timeout_ms);
  std::optional<double> last;
  while (clock::now() < deadline) {
    auto waiting = read_metric(url, "actormq_store_waiting_operations", why);
    auto used = read_metric(url, "actormq_store_used_bytes", why);
    if (!waiting || !used)
      return std::nullopt;
    if (*waiting == 0 && last && *last == *used)
      return static_cast<uint64_t>(*used);
    last = *waiting == 0 ? used : std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(quiet_ms));
  }
  why = "the store did not settle within " + std::to_string(timeout_ms / 1000) + " s";
  return std::nullopt;
}

} // namespace actormq::bench
