// result<T>: a value or an error (std::error_code plus a message for people).
// storage/, protocol/, config/ and client/ return it; actors turn errors into caf::error.
#pragma once

#include <cassert>
#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace actormq {

struct failure {
  std::error_code code;
  std::string what; // names the thing that was wrong, for people

  std::string message() const { return what.empty() ? code.message() : what; }
};

template <class T> class [[nodiscard]] result {
public:
  result(T value) : data_(std::move(value)) {}
  result(failure f) : data_(std::move(f)) {}
  result(std::error_code code, std::string what = {}) : data_(failure{code, std::move(what)}) {}

  explicit operator bool() const noexcept { return data_.index() == 0; }
  bool ok() const noexcept { return data_.index() == 0; }

  T& value() & {
    assert(ok());
    return std::get<0>(data_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(data_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(data_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const failure& error() const {
    assert(!ok());
    return std::get<1>(data_);
  }
  std::error_code code() const { return ok() ? std::error_code{} : error().code; }
  std::string message() const { return ok() ? std::string{} : error().message(); }

private:
  std::variant<T, failure> data_;
};

// result<void>: success or a failure.
template <> class [[nodiscard]] result<void> {
public:
  result() = default;
  result(failure f) : failure_(std::move(f)), failed_(true) {}
  result(std::error_code code, std::string what = {})
      : failure_{code, std::move(what)}, failed_(true) {}

  explicit operator bool() const noexcept { return !failed_; }
  bool ok() const noexcept { return !failed_; }
  const failure& error() const {
    assert(failed_);
    return failure_;
  }
  std::error_code code() const { return failed_ ? failure_.code : std::error_code{}; }
  std::string message() const { return failed_ ? failure_.message() : std::string{}; }

private:
  failure failure_;
  bool failed_ = false;
};

} // namespace actormq
