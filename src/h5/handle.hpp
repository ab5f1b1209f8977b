#pragma once

#include <hdf5.h>

#include <concepts>
#include <exception>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace graybench::h5 {

/// Throws std::runtime_error "HDF5: <what>: <every frame of the HDF5 error stack, innermost
/// cause first>", and clears the stack.
[[noreturn]] void fail(std::string_view what);

/// The one checked wrapper every HDF5 C call goes through: returns `result` (an id, status,
/// tri-state, count or class), or throws naming `what` when it is negative (HDF5's failure
/// value).
template <typename T>
requires std::signed_integral<T> || std::is_enum_v<T> T check(T result, std::string_view what) {
  if (static_cast<long long>(result) < 0) fail(what);
  return result;
}

/// Move-only owner of one HDF5 identifier, released with H5Idec_ref; never throws on release.
class Handle {
 public:
  Handle() = default;
  /// Takes ownership of `id`; throws naming `what` if it is invalid (the call that made it failed).
  Handle(hid_t id, std::string_view what) : id_(check(id, what)) {}
  Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }

  hid_t get() const { return id_; }
  operator hid_t() const { return id_; }  // NOLINT: handles pass straight to the C API
  /// Gives up ownership without releasing (for an explicit, checked close).
  hid_t release() noexcept { return std::exchange(id_, H5I_INVALID_HID); }
  void reset() noexcept {
    if (id_ >= 0) H5Idec_ref(id_);  // a destructor: a failed release has nowhere to go
    id_ = H5I_INVALID_HID;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

/// Turns off HDF5's automatic error printing for its lifetime; errors still reach fail().
class ErrorSilencer {
 public:
  ErrorSilencer();
  ~ErrorSilencer();
  ErrorSilencer(const ErrorSilencer&) = delete;
  ErrorSilencer& operator=(const ErrorSilencer&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

/// Carries an exception out of an HDF5 C callback: the callback runs its body through run(),
/// which catches everything and returns -1 (HDF5 stops iterating); the caller calls rethrow()
/// once the C function has returned, before checking its status.
class CallbackGuard {
 public:
  template <typename F>
  herr_t run(F&& body) noexcept {
    try {
      return body();
    } catch (...) {
      error_ = std::current_exception();
      return -1;
    }
  }
  void rethrow() {
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

 private:
  std::exception_ptr error_;
};

/// A variable-length UTF-8 string type.
Handle vlen_string_type();

/// "major.minor.release" of the HDF5 library in use.
std::string library_version();

}  // namespace graybench::h5
