// How error texts show what a client sent: in single quotes, each byte that is not printable as
// \xNN, at most `max` bytes and then "...", so that a hostile input cannot fill a log line or
// break a terminal. Plain C++ (no CAF).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace actormq::protocol {

// `text` with unprintable bytes as \xNN, cut after `max` bytes ("..." then).
std::string printable(std::string_view text, size_t max = 64);

// printable(text, max) in single quotes.
std::string quoted(std::string_view text, size_t max = 64);

} // namespace actormq::protocol
