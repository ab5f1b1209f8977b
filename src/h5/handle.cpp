#include "h5/handle.hpp"

#include <stdexcept>

namespace graybench::h5 {

namespace {
herr_t collect(unsigned n, const H5E_error2_t* err, void* data) {
  auto* out = static_cast<std::string*>(data);
  if (n > 3) return 0;  // the innermost frames say what went wrong; the rest is noise
  *out += "; ";
  if (err->func_name) *out += std::string(err->func_name) + ": ";
  if (err->desc) *out += err->desc;
  return 0;
}
}  // namespace

void fail(const std::string& what) {
  std::string stack;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect, &stack);
  H5Eclear2(H5E_DEFAULT);
  throw std::runtime_error("HDF5: " + what + stack);
}

ErrorSilencer::ErrorSilencer() {
  H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

ErrorSilencer::~ErrorSilencer() {
  H5Eset_auto2(H5E_DEFAULT, func_, data_);
}

Handle vlen_string_type() {
  Handle t(H5Tcopy(H5T_C_S1), "H5Tcopy");
  check_status(H5Tset_size(t, H5T_VARIABLE), "H5Tset_size");
  check_status(H5Tset_cset(t, H5T_CSET_UTF8), "H5Tset_cset");
  return t;
}

}  // namespace graybench::h5
