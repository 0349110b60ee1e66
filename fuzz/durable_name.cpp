// libFuzzer target: the store names of durable subscriptions (actors/durable_name.hpp), read back
// from the store at start. Input: the name. Must hold, besides no crash and no sanitizer report:
// a name that parses prints (durable_store_name) as a name that parses to the same client id,
// subscription name, topic and selector; and any parts print as a name that reads back as them.
#include "actors/durable_name.hpp"
#include "fuzz/fuzz_check.hpp"

namespace {

using namespace actormq::actors;

bool same(const durable_name& a, const durable_name& b) {
  return a.client_id == b.client_id && a.subscription_name == b.subscription_name &&
         a.topic == b.topic && a.selector == b.selector;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (auto parsed = parse_durable_store_name(text)) {
    auto again = parse_durable_store_name(durable_store_name(*parsed));
    FUZZ_CHECK(again && same(*again, *parsed));
  }
  // The input cut in four parts (at NULs) as client id, name, selector and topic: a topic is
  // whatever follows the '@', so any topic text reads back.
  durable_name parts;
  std::string* fields[] = {&parts.client_id, &parts.subscription_name, &parts.selector,
                           &parts.topic};
  size_t field = 0;
  for (char c : text) {
    if (c == '\0' && field < 3)
      ++field;
    else
      *fields[field] += c;
  }
  auto back = parse_durable_store_name(durable_store_name(parts));
  FUZZ_CHECK(back && same(*back, parts));
  return 0;
}
