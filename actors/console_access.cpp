// The checks every console request passes before it is routed (and the actions' own checks):
// credentials or the Host header, the method a path takes, the length of a body, and the
// Content-Type and Origin of a state-changing request.
#include "actors/console_impl.hpp"
#include "common/base64.hpp"
#include "common/same_secret.hpp"

#include <algorithm>
#include <cstdlib>
#include <regex>
#include <string_view>

namespace actormq::actors {

using console_detail::max_body_bytes;

bool console::impl::admitted(const httplib::Request& req, httplib::Response& res) {
  if (auth_required) {
    auto header = req.get_header_value("Authorization");
    bool ok = false;
    if (header.size() > 6 && (header.compare(0, 6, "Basic ") == 0)) {
      if (auto decoded = actormq::base64_decode(header.substr(6))) {
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
            "this console answers only requests addressed to 127.0.0.1" + p + " or localhost" + p);
  return false;
}

std::string console::impl::allowed_methods(const std::string& path) const {
  static const std::regex action(
      R"(/api/queues/.+/(send|purge|delete|retry)|/api/topics/unsubscribe|/api/scheduled/.+/cancel)");
  static const std::regex queue_read(R"(/api/queues/.+)");
  if (std::regex_match(path, action))
    return "POST";
  if (read_paths.count(path) > 0 || std::regex_match(path, queue_read))
    return "GET, HEAD";
  return {};
}

bool console::impl::method_allowed(const httplib::Request& req, httplib::Response& res) {
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

bool console::impl::action_allowed(const httplib::Request& req, httplib::Response& res) {
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

} // namespace actormq::actors
