// The console's routes: every path, the handler that answers it and the method it takes; the
// headers every answer carries; the answers to requests refused before routing, to errors and
// to exceptions.
#include "actors/console_impl.hpp"
#include "actors/console_pages.hpp"
#include "actors/console_script.hpp"

#include <exception>
#include <string>

namespace actormq::actors {

void console::impl::read_route(const char* path, httplib::Server::Handler handler) {
  read_paths.insert(path);
  server.Get(path, std::move(handler));
}

void console::impl::routes() {
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
  page("/topics.html", pages::topics_html, "text/html; charset=utf-8");
  page("/scheduled.html", pages::scheduled_html, "text/html; charset=utf-8");
  page("/console.js", pages::console_js, "text/javascript; charset=utf-8");
  page("/console.css", pages::console_css, "text/css; charset=utf-8");

  read_route("/health", [this](const httplib::Request&, httplib::Response& res) { health(res); });
  read_route("/metrics", [this](const httplib::Request&, httplib::Response& res) { metrics(res); });
  read_route("/api/overview",
             [this](const httplib::Request&, httplib::Response& res) { overview(res); });
  read_route("/api/queues",
             [this](const httplib::Request&, httplib::Response& res) { queues(res); });
  read_route("/api/connections",
             [this](const httplib::Request&, httplib::Response& res) { connections(res); });
  read_route("/api/topics",
             [this](const httplib::Request&, httplib::Response& res) { topics(res); });
  read_route("/api/bridges",
             [this](const httplib::Request&, httplib::Response& res) { bridges(res); });
  read_route("/api/actors",
             [this](const httplib::Request&, httplib::Response& res) { actors(res); });
  read_route("/api/scheduled",
             [this](const httplib::Request&, httplib::Response& res) { scheduled(res); });

  // Actions: POST only (method_allowed answers every other method with 405).
  s.Post(R"(/api/queues/(.+)/send)", [this](const httplib::Request& req, httplib::Response& res) {
    if (action_allowed(req, res))
      send(req.matches[1], req, res);
  });
  s.Post(R"(/api/queues/(.+)/purge)", [this](const httplib::Request& req, httplib::Response& res) {
    if (action_allowed(req, res))
      purge(req.matches[1], res);
  });
  s.Post(R"(/api/queues/(.+)/retry)", [this](const httplib::Request& req, httplib::Response& res) {
    if (action_allowed(req, res))
      retry(req.matches[1], req, res);
  });
  s.Post(R"(/api/queues/(.+)/delete)", [this](const httplib::Request& req, httplib::Response& res) {
    if (action_allowed(req, res))
      remove(req.matches[1], res);
  });
  s.Post("/api/topics/unsubscribe", [this](const httplib::Request& req, httplib::Response& res) {
    if (action_allowed(req, res))
      unsubscribe(req, res);
  });
  s.Get(R"(/api/queues/(.+)/history)", [this](const httplib::Request& req, httplib::Response& res) {
    history_of(req.matches[1], res);
  });
  s.Post(R"(/api/scheduled/(.+)/cancel)",
         [this](const httplib::Request& req, httplib::Response& res) {
           if (action_allowed(req, res))
             cancel_scheduled(req.matches[1], res);
         });
  s.Get(R"(/api/queues/(.+)/messages)",
        [this](const httplib::Request& req, httplib::Response& res) {
          browse(req.matches[1], req, res);
        });
  s.Get(R"(/api/queues/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
    queue(req.matches[1], res);
  });
}

} // namespace actormq::actors
