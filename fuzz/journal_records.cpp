// libFuzzer target: journal record payloads (storage/journal_records.hpp), the operations a
// replay applies after a crash. Must hold, besides no crash and no sanitizer report: a payload
// that decodes encodes again to the same bytes, so a replay applies exactly what was written.
#include "storage/journal_records.hpp"
#include "fuzz/fuzz_check.hpp"

#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace actormq::storage;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<operation> ops;
  if (detail::decode_operations(in, ops))
    FUZZ_CHECK(detail::encode_operations(ops, 0, ops.size()) == in);
  return 0;
}
