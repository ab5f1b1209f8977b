#include "common/errors.hpp"

namespace graybench {

const char* to_string(ImageStatus status) {
  switch (status) {
    case ImageStatus::kOk:
      return "ok";
    case ImageStatus::kReadError:
      return "read_error";
    case ImageStatus::kDecodeError:
      return "decode_error";
    case ImageStatus::kEncodeError:
      return "encode_error";
    case ImageStatus::kWriteError:
      return "write_error";
    case ImageStatus::kWorkerLost:
      return "worker_lost";
    case ImageStatus::kNotProcessed:
      return "not_processed";
    case ImageStatus::kInternalError:
      return "internal_error";
  }
  return "unknown";
}

}  // namespace graybench
