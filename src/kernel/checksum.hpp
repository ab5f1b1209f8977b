#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace graybench {

/// Name of the per-image checksum algorithm, stored as the `checksum_algorithm` attribute of the
/// results file and of every run.
inline constexpr const char* kChecksumAlgorithm = "xxh3-64";

/// The per-image checksum stored in the HDF5 file: XXH3-64 with seed 0 (libxxhash's
/// `XXH3_64bits`, Python's `xxhash.xxh3_64_intdigest`) of the W x H gray bytes, row-major.
std::uint64_t checksum64(std::span<const std::uint8_t> bytes);

/// 64-bit FNV-1a. No longer the image checksum (too slow: one multiply chain per byte); kept
/// for the input-set fingerprint, which hashes a few short listing lines.
class Fnv1a64 {
 public:
  static constexpr std::uint64_t kOffsetBasis = 14695981039346656037ull;
  static constexpr std::uint64_t kPrime = 1099511628211ull;

  /// Feeds bytes; may be called repeatedly (the hash of a concatenation).
  void update(std::span<const std::uint8_t> bytes) {
    std::uint64_t h = hash_;
    for (std::uint8_t b : bytes) {
      h ^= b;
      h *= kPrime;
    }
    hash_ = h;
  }
  std::uint64_t value() const { return hash_; }

 private:
  std::uint64_t hash_ = kOffsetBasis;
};

/// FNV-1a 64 of `bytes`.
inline std::uint64_t fnv1a64(std::span<const std::uint8_t> bytes) {
  Fnv1a64 h;
  h.update(bytes);
  return h.value();
}

}  // namespace graybench
