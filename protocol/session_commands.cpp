#include "protocol/session_commands.hpp"

namespace actormq::protocol {

const char* command_name(const command_body& body) {
  struct visitor {
    const char* operator()(const connect_command&) { return "connect"; }
    const char* operator()(const send_command&) { return "send"; }
    const char* operator()(const open_consumer_command&) { return "open_consumer"; }
    const char* operator()(const close_consumer_command&) { return "close_consumer"; }
    const char* operator()(const credit_command&) { return "credit"; }
    const char* operator()(const ack_command&) { return "ack"; }
    const char* operator()(const browse_command&) { return "browse"; }
    const char* operator()(const purge_command&) { return "purge"; }
    const char* operator()(const stats_command&) { return "stats_request"; }
    const char* operator()(const heartbeat_command&) { return "heartbeat"; }
    const char* operator()(const disconnect_command&) { return "disconnect"; }
    const char* operator()(const refused_command& r) {
      return r.name.empty() ? "(refused)" : r.name.c_str();
    }
    const char* operator()(const unexpected_command& u) { return u.name.c_str(); }
    const char* operator()(const unsubscribe_command&) { return "unsubscribe"; }
    const char* operator()(const begin_command&) { return "begin_transaction"; }
    const char* operator()(const commit_command&) { return "commit_transaction"; }
    const char* operator()(const rollback_command&) { return "rollback_transaction"; }
    const char* operator()(const retry_command&) { return "retry"; }
  };
  return std::visit(visitor{}, body);
}

} // namespace actormq::protocol
