// libFuzzer target: cron expressions (protocol/cron.hpp) and destination options
// (protocol/destination_options.hpp). Input: the text. Must hold, besides no crash and no
// sanitizer report: a parsed expression's next time is after the time given and on a whole
// minute, and the next time after it is later still.
#include "protocol/cron.hpp"
#include "fuzz/fuzz_check.hpp"
#include "protocol/destination_options.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace actormq::protocol;
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (auto cron = parse_cron(text)) {
    const int64_t start = 1'800'000'000'000; // 2027-01-15
    if (auto t = next_cron_time(*cron, start)) {
      FUZZ_CHECK(*t > start);
      FUZZ_CHECK(*t % 60000 == 0);
      if (auto again = next_cron_time(*cron, *t))
        FUZZ_CHECK(*again > *t);
    }
  }
  if (auto split = split_destination_options(text)) {
    FUZZ_CHECK(text.compare(0, split->destination.size(), split->destination) == 0);
    if (split->consumer.has_priority)
      FUZZ_CHECK(split->consumer.priority >= 0 && split->consumer.priority <= 127);
  }
  return 0;
}
