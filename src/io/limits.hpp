#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <span>

namespace graybench {

/// Default --max-pixels: 2^28 (about 268 Mpix, a 16384 x 16384 image).
inline constexpr std::uint64_t kDefaultMaxPixels = std::uint64_t{1} << 28;

/// --max-pixels 0: no limit.
inline constexpr std::uint64_t kNoPixelLimit = UINT64_MAX;

/// Width and height as a file's header declares them.
struct Dimensions {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::uint64_t pixels() const { return std::uint64_t{width} * height; }
};

/// Reads width and height from the header of a PNG, JPEG, GIF, BMP, TGA, PSD or PNM file
/// without decoding it (and without stb: this must be safe on any input). nullopt when the
/// header is not one of these. A header shorter than 32 bytes is read as if zeros followed,
/// as stb_image reads it (so a cut-short header cannot slip past the pixel limit).
std::optional<Dimensions> probe_dimensions(std::span<const std::uint8_t> encoded);

/// probe_dimensions() on the head of a file, opened non-blocking (a FIFO never hangs it);
/// nullopt when the file cannot be read or its header is unknown.
std::optional<Dimensions> probe_file_dimensions(const std::filesystem::path& path);

/// Throws ImageError(kDecodeError, "exceeds --max-pixels (W x H > N)") when the header declares
/// more than `max_pixels` pixels. Returns the dimensions when the header was readable.
std::optional<Dimensions> check_pixel_limit(std::span<const std::uint8_t> encoded,
                                            std::uint64_t max_pixels);

/// Throws ImageError(kDecodeError, "exceeds --max-pixels (W x H > N)") when width x height is
/// more than `max_pixels`: what every decoder calls on its own reading of the header, before it
/// allocates the pixels.
void enforce_pixel_limit(std::uint64_t width, std::uint64_t height, std::uint64_t max_pixels);

/// Bytes of memory one image of `pixels` pixels may need from decode to encode: decoded samples
/// (up to 4 per pixel, 16-bit PNGs twice that inside the decoder), the decoder's own buffers,
/// the gray copy and the encoded PNG.
std::uint64_t image_memory_cost(std::uint64_t pixels);

/// Memory a rank lets its images use at once: GRAYBENCH_MEMORY_BUDGET (bytes) if set, else 3/4
/// of the smaller of MemAvailable and the cgroup's remaining memory.max.
std::uint64_t default_memory_budget();

/// A per-rank budget of bytes shared by the workers of one rank. An image takes its cost before
/// decoding and gives it back when done; when the budget cannot hold it while others run, it
/// waits for them (so several huge images run one after another instead of exhausting memory).
/// An image larger than the whole budget still runs, alone.
class MemoryBudget {
 public:
  explicit MemoryBudget(std::uint64_t bytes) : capacity_(bytes) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  /// Held budget, returned on destruction.
  class Lease {
   public:
    Lease() = default;
    Lease(MemoryBudget* owner, std::uint64_t bytes) : owner_(owner), bytes_(bytes) {}
    Lease(Lease&& o) noexcept : owner_(o.owner_), bytes_(o.bytes_) { o.owner_ = nullptr; }
    Lease& operator=(Lease&& o) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { release(); }
    void release() noexcept;

   private:
    MemoryBudget* owner_ = nullptr;
    std::uint64_t bytes_ = 0;
  };

  /// Blocks until `bytes` fit (or nothing else is held). Throws StopRequested when the job is
  /// asked to stop while waiting.
  Lease acquire(std::uint64_t bytes);
  /// Takes `bytes` if they fit now (or nothing else is held); nullopt otherwise.
  std::optional<Lease> try_acquire(std::uint64_t bytes);

  /// Counts a caller that held an image back because it did not fit (try_acquire users).
  void record_wait();

  std::uint64_t capacity() const { return capacity_; }
  /// How many acquisitions had to wait for others: images serialised by the budget.
  std::uint64_t waits() const;

 private:
  void give_back(std::uint64_t bytes) noexcept;
  bool fits(std::uint64_t bytes) const { return used_ == 0 || used_ + bytes <= capacity_; }

  const std::uint64_t capacity_;
  mutable std::mutex m_;
  std::condition_variable cv_;
  std::uint64_t used_ = 0;
  std::uint64_t waits_ = 0;
};

}  // namespace graybench
