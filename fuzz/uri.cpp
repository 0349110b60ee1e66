// libFuzzer target: broker URIs (uri.hpp): tcp://, failover: and static:. Input: the URI text.
// Must hold, besides no crash and no sanitizer report: a tcp URI that parses prints (text()) as a
// URI that parses to the same host and port; so does every member of a composite URI; and
// parse_broker_url agrees with the parser of its form.
#include "protocol/uri.hpp"
#include "fuzz/fuzz_check.hpp"

namespace {

using namespace actormq::protocol;

void check_printed(const tcp_uri& u) {
  auto again = parse_tcp_uri(u.text());
  FUZZ_CHECK(again);
  FUZZ_CHECK(again->host == u.host && again->port == u.port);
  FUZZ_CHECK(again->text() == u.text());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto tcp = parse_tcp_uri(text);
  if (tcp)
    check_printed(*tcp);
  auto composite = parse_composite_uri(text);
  if (composite)
    for (auto& member : composite->members)
      check_printed(member);
  auto broker = parse_broker_url(text);
  if (broker) {
    FUZZ_CHECK(tcp || composite);
    for (auto& member : broker->members)
      check_printed(member);
  }
  if (tcp)
    FUZZ_CHECK(broker && broker->members.size() == 1 && broker->members[0].host == tcp->host &&
               broker->members[0].port == tcp->port);
  return 0;
}
