#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

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

/// Per-image outcome stored in the `status` field of /runs/<run>/images (docs/schema.md).
enum class ImageStatus : std::int32_t {
  kOk = 0,
  kReadError = 1,      ///< the file could not be opened or read
  kDecodeError = 2,    ///< not a decodable image (corrupt, truncated, unsupported variant)
  kEncodeError = 3,    ///< the grayscale PNG could not be encoded
  kWriteError = 4,     ///< the output file could not be written
  kWorkerLost = 5,     ///< the worker process handling it died
  kNotProcessed = 6,   ///< the run ended (interrupted) before the image was processed
  kInternalError = 7,  ///< an unexpected exception while processing the image
};

/// Short name of a status ("ok", "read_error", ...).
const char* to_string(ImageStatus status);

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
