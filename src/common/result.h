// Errors as values, shared by every ztgate module: a fallible public function
// returns Result<T>; nothing throws across a module interface.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace ztgate {

// A position in source text (1-based line and column); 0:0 when unknown.
struct SourceLoc {
  int line = 0;
  int column = 0;
};

// An error a user can act on: a stable machine code, a human message and,
// for text inputs, where in the source it happened.
struct Error {
  std::string code;     // e.g. "parse_error", "type_error", "overflow"
  std::string message;  // complete sentence fragment, no trailing period
  SourceLoc loc{};

  std::string to_string() const {
    if (loc.line > 0)
      return std::to_string(loc.line) + ":" + std::to_string(loc.column) + ": " + message;
    return message;
  }
};

inline Error make_error(std::string code, std::string message, SourceLoc loc = {}) {
  return Error{std::move(code), std::move(message), loc};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}      // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// For functions that produce nothing but can fail.
struct Ok {};
using Status = Result<Ok>;

}  // namespace ztgate
