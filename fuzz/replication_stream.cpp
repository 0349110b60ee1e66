// libFuzzer target: the replication stream a replica reads from its master
// (storage/replication.hpp), fed in two pieces split where the first byte says. Must hold,
// besides no crash and no sanitizer report: the frames the decoder yields encode again to the
// bytes they came from, in order; after an error the decoder repeats it; the operations of a
// frame that decode encode again to the same bytes.
#include "fuzz/fuzz_check.hpp"
#include "storage/journal_records.hpp"
#include "storage/replication.hpp"

#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace actormq::storage;
  if (size == 0)
    return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t split = std::min<size_t>(data[0], in.size());
  // A small maximum, so that the size check is reached too.
  replication_decoder decoder(4096);
  std::string decoded; // the frames yielded, encoded again
  bool failed = false;
  for (auto piece : {in.substr(0, split), in.substr(split)}) {
    decoder.feed(piece);
    while (!failed) {
      auto next = decoder.next();
      if (!next) {
        failed = true;
        FUZZ_CHECK(!decoder.next().ok());
        break;
      }
      if (!*next)
        break;
      const replicated_batch& batch = **next;
      FUZZ_CHECK(batch.epoch != 0 && batch.sequence != 0 && batch.previous_epoch <= batch.epoch);
      decoded += encode_replicated_batch(batch);
      std::vector<operation> ops;
      if (detail::decode_operations(batch.operations, ops))
        FUZZ_CHECK(detail::encode_operations(ops, 0, ops.size()) == batch.operations);
    }
  }
  FUZZ_CHECK(in.substr(0, decoded.size()) == decoded);
  if (!failed)
    FUZZ_CHECK(decoded.size() + decoder.buffered() == in.size());
  return 0;
}
