#pragma once

#include <hdf5.h>

#include <string>
#include <utility>

namespace graybench::h5 {

/// Throws std::runtime_error with `what` and the current HDF5 error stack.
[[noreturn]] void fail(const std::string& what);

/// Returns `id` if valid, else throws with `what` and the HDF5 error stack.
inline hid_t check(hid_t id, const char* what) {
  if (id < 0) fail(what);
  return id;
}
/// Throws if `status` < 0.
inline void check_status(herr_t status, const char* what) {
  if (status < 0) fail(what);
}

/// Move-only owner of one HDF5 identifier, released with H5Idec_ref; never throws on release.
class Handle {
 public:
  Handle() = default;
  /// Takes ownership of `id`; throws if it is invalid (the call that made it failed).
  Handle(hid_t id, const char* what) : id_(check(id, what)) {}
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
    if (id_ >= 0) H5Idec_ref(id_);
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

/// A variable-length UTF-8 string type.
Handle vlen_string_type();

}  // namespace graybench::h5
