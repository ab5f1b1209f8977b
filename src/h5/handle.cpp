#include "h5/handle.hpp"

#include <stdexcept>
#include <vector>

namespace graybench::h5 {

namespace {
// A walk callback must not throw (C frames); it only appends to a string it owns.
herr_t collect(unsigned, const H5E_error2_t* err, void* data) noexcept {
  try {
    auto* frames = static_cast<std::vector<std::string>*>(data);
    std::string frame = err->desc && *err->desc ? err->desc : "";
    if (err->func_name) frame += std::string(frame.empty() ? "" : " ") + "(" + err->func_name + ")";
    frames->push_back(std::move(frame));
  } catch (...) {
    return -1;
  }
  return 0;
}
}  // namespace

void fail(std::string_view what) {
  // Upward: the innermost frame (where HDF5 found the cause, e.g. "object 'images' doesn't
  // exist") first, then each caller out to the API function. Every frame is kept.
  std::vector<std::string> frames;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect, &frames);
  H5Eclear2(H5E_DEFAULT);
  std::string msg = "HDF5: " + std::string(what);
  for (std::size_t i = 0; i < frames.size(); ++i)
    msg += (i == 0 ? ": " : " <- ") + frames[i];
  if (frames.empty()) msg += ": failed (no HDF5 error stack)";
  throw std::runtime_error(msg);
}

ErrorSilencer::ErrorSilencer() {
  H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

ErrorSilencer::~ErrorSilencer() {
  H5Eset_auto2(H5E_DEFAULT, func_, data_);
}

Handle vlen_string_type() {
  Handle t(H5Tcopy(H5T_C_S1), "copy the C string type");
  check(H5Tset_size(t, H5T_VARIABLE), "make the string type variable-length");
  check(H5Tset_cset(t, H5T_CSET_UTF8), "make the string type UTF-8");
  return t;
}

std::string library_version() {
  unsigned major = 0, minor = 0, release = 0;
  check(H5get_libversion(&major, &minor, &release), "query the HDF5 library version");
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
}

}  // namespace graybench::h5
