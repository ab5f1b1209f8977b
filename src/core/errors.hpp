#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "core/enum_names.hpp"

namespace graybench {

/// Process exit codes, documented in README.md ("Exit codes").
enum class ExitCode : int {
  kOk = 0,            ///< every image of every run converted
  kFatal = 1,         ///< the job could not go on (I/O on the results file, MPI, internal error)
  kUsage = 2,         ///< bad command line or input selection; nothing was run
  kImagesFailed = 3,  ///< finished, but some images failed (each failure is a row in the file)
  kInterrupted = 4,   ///< stopped by SIGTERM/SIGINT: finished runs and the interrupted one saved
};

/// Bad command line or input selection. Printed as one line; exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The value of E named `name`, or UsageError "`option`: unknown <noun> 'name'; choose one of
/// ...".
template <NamedEnum E>
E parse_enum_or_throw(std::string_view name, std::string_view option) {
  if (const auto v = parse_enum<E>(name)) return *v;
  throw UsageError(std::string(option) + ": " + unknown_enum_message<E>(name));
}

/// Per-image outcome stored in the `status` field of /runs/<run>/images (docs/schema.md), as
/// an HDF5 enum type named by its table. Values may be appended, never renumbered.
enum class ImageStatus : std::int32_t {
  kOk = 0,
  kReadError = 1,
  kDecodeError = 2,
  kEncodeError = 3,
  kWriteError = 4,
  kWorkerLost = 5,
  kNotProcessed = 6,
  kInternalError = 7,
};

GRAYBENCH_ENUM_NAMES(
    ImageStatus, "image status",
    {ImageStatus::kOk, "ok", "converted (and written, with --output-dir)"},
    {ImageStatus::kReadError, "read_error", "the file could not be opened or read"},
    {ImageStatus::kDecodeError, "decode_error",
     "not a decodable image: corrupt, truncated or an unsupported variant"},
    {ImageStatus::kEncodeError, "encode_error", "the grayscale PNG could not be encoded"},
    {ImageStatus::kWriteError, "write_error", "the output file could not be written"},
    {ImageStatus::kWorkerLost, "worker_lost", "the worker process handling it died"},
    {ImageStatus::kNotProcessed, "not_processed", "the run was interrupted before this image"},
    {ImageStatus::kInternalError, "internal_error", "an unexpected exception while processing it"})

/// A failure of one image: becomes a row with a status and message, never fatal.
class ImageError : public std::runtime_error {
 public:
  ImageError(ImageStatus status, const std::string& what)
      : std::runtime_error(what), status_(status) {}
  ImageStatus status() const { return status_; }

 private:
  ImageStatus status_;
};

}  // namespace graybench
