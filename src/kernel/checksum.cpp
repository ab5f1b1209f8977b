#include "kernel/checksum.hpp"

#include <xxhash.h>

namespace graybench {

std::uint64_t checksum64(std::span<const std::uint8_t> bytes) {
  return XXH3_64bits(bytes.data(), bytes.size());
}

}  // namespace graybench
