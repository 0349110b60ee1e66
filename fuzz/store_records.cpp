// libFuzzer target: the store's record decoding (storage/encoding.hpp): index entries (both
// schemas), destinations, transfer marks and keys, audit windows, fixed-width integers. Input:
// one byte that picks the record type, then the record's bytes. Must hold, besides no crash and
// no sanitizer report: a record that decodes encodes again to the same bytes (an 8-byte audit
// record, a high-water mark of an older store, reads as a window where everything up to the mark
// was seen), and an audit window remembers what was added to it.
#include "fuzz/fuzz_check.hpp"
#include "storage/encoding.hpp"

#include <utility>
#include <vector>

namespace {

using namespace actormq::storage;
using namespace actormq::storage::detail;

void check_audit_adds(std::string_view in) {
  audit_window w;
  std::vector<uint64_t> added;
  for (size_t at = 0; at + 8 <= in.size() && added.size() < 64; at += 8) {
    // Small steps mostly, so that the window slides within its size.
    uint64_t sequence = read_le(in, at, 8);
    if (sequence & 1)
      sequence = (w.high + (sequence >> 1) % 2048) - 1024;
    w.add(sequence);
    added.push_back(sequence);
  }
  for (auto s : added)
    FUZZ_CHECK(w.stored(s));
  audit_window read;
  FUZZ_CHECK(decode_audit(encode_audit(w), read));
  FUZZ_CHECK(read.high == w.high && read.seen == w.seen);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 9) {
  case 0: {
    index_entry e;
    uint64_t body_id = 0;
    if (decode_index(in, e, body_id))
      FUZZ_CHECK(encode_index(e, body_id) == in);
    break;
  }
  case 1: {
    index_entry e;
    if (decode_schema1_index(in, e))
      FUZZ_CHECK(encode_index(e, 0).substr(0, schema1_index_value_size) == in);
    break;
  }
  case 2: {
    destination_record d;
    if (decode_destination(3, in, d)) {
      FUZZ_CHECK(d.id == 3);
      FUZZ_CHECK(encode_destination(d) == in);
    }
    break;
  }
  case 3: {
    std::string link_id;
    uint64_t link_sequence = 0;
    if (decode_transfer_key(in, link_id, link_sequence)) {
      FUZZ_CHECK(transfer_key(link_id, link_sequence) == in);
      FUZZ_CHECK(transfer_key(link_id, link_sequence).rfind(transfer_prefix(link_id), 0) == 0);
    }
    break;
  }
  case 4: {
    uint32_t destination_id = 0;
    uint64_t sequence = 0;
    if (decode_transfer(in, destination_id, sequence))
      FUZZ_CHECK(encode_transfer(destination_id, sequence) == in);
    break;
  }
  case 5: {
    audit_window w;
    if (decode_audit(in, w)) {
      if (in.size() == 8) {
        FUZZ_CHECK(w.stored(w.high) && w.stored(0));
        FUZZ_CHECK(w.high == UINT64_MAX || !w.stored(w.high + 1));
      } else {
        FUZZ_CHECK(encode_audit(w) == in);
      }
    }
    break;
  }
  case 6: {
    uint32_t v = 0;
    if (decode_u32(in, v))
      FUZZ_CHECK(encode_u32(v) == in);
    uint64_t w = 0;
    if (decode_u64(in, w))
      FUZZ_CHECK(encode_u64(w) == in);
    break;
  }
  case 7:
    check_audit_adds(in);
    break;
  default: {
    // Keys sort as their numbers do.
    if (in.size() >= 24) {
      auto a = read_be(in, 0, 4);
      auto b = read_be(in, 4, 8);
      auto c = read_be(in, 12, 4);
      auto d = read_be(in, 16, 8);
      FUZZ_CHECK((message_key(static_cast<uint32_t>(a), b) <
                  message_key(static_cast<uint32_t>(c), d)) == (std::pair(a, b) < std::pair(c, d)));
      FUZZ_CHECK((body_key(b) < body_key(d)) == (b < d));
    }
    break;
  }
  }
  return 0;
}
