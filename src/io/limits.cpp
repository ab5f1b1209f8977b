#include "io/limits.hpp"

#include <array>

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "core/cancel.hpp"
#include "core/errors.hpp"
#include "core/posix.hpp"
#include "io/codec_internal.hpp"

namespace graybench {

namespace {

std::uint32_t be16(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 8 | p[1];
}
std::uint32_t le16(const std::uint8_t* p) {
  return std::uint32_t{p[1]} << 8 | p[0];
}
std::uint32_t le32(const std::uint8_t* p) {
  return std::uint32_t{p[3]} << 24 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[1]} << 8 | p[0];
}

bool starts_with(std::span<const std::uint8_t> d, std::initializer_list<std::uint8_t> magic) {
  return d.size() >= magic.size() && std::equal(magic.begin(), magic.end(), d.begin());
}

std::optional<Dimensions> jpeg_dimensions(std::span<const std::uint8_t> d) {
  std::size_t i = 2;  // after SOI
  while (i + 1 < d.size()) {
    if (d[i] != 0xFF) {
      // Bytes that are no marker: stb_image and libjpeg-turbo both skip them to the next 0xFF
      // (libjpeg warns of "extraneous bytes"), so a frame header behind them still counts.
      ++i;
      continue;
    }
    const std::uint8_t m = d[i + 1];
    if (m == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    i += 2;
    if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) continue;  // no length
    if (m == 0xD9 || m == 0xDA) return std::nullopt;  // end or scan before any frame header
    if (i + 2 > d.size()) return std::nullopt;
    const std::size_t len = be16(&d[i]);
    if (len < 2) return std::nullopt;
    const bool sof = m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
    if (sof) {
      if (i + 7 > d.size()) return std::nullopt;
      return Dimensions{be16(&d[i + 5]), be16(&d[i + 3])};
    }
    i += len;
  }
  return std::nullopt;
}

std::optional<Dimensions> pnm_dimensions(std::span<const std::uint8_t> d) {
  std::size_t i = 2;
  auto skip_space = [&] {
    while (i < d.size()) {
      if (d[i] == '#') {
        while (i < d.size() && d[i] != '\n' && d[i] != '\r')
          ++i;
      } else if (d[i] == ' ' || (d[i] >= '\t' && d[i] <= '\r')) {
        ++i;
      } else {
        break;
      }
    }
  };
  auto number = [&]() -> std::optional<std::uint32_t> {
    skip_space();
    // Every digit, as stb reads them (leading zeros too): stopping early would read the rest
    // of the width as the height.
    std::uint64_t v = 0;
    std::size_t digits = 0;
    while (i < d.size() && d[i] >= '0' && d[i] <= '9') {
      v = std::min<std::uint64_t>(v * 10 + static_cast<std::uint64_t>(d[i++] - '0'), UINT32_MAX);
      ++digits;
    }
    if (digits == 0) return std::nullopt;
    return static_cast<std::uint32_t>(v);
  };
  const auto w = number();
  if (!w) return std::nullopt;
  const auto h = number();
  if (!h) return std::nullopt;
  return Dimensions{*w, *h};
}

}  // namespace

std::optional<Dimensions> probe_dimensions(std::span<const std::uint8_t> d) {
  // stb_image reads zeros past the end of a file, so a header cut short still declares a size
  // to it (a 17-byte TGA: 8272 x 37124 pixels). Probe what the decoder will see.
  constexpr std::size_t kFixedHeader = 32;  // every fixed-size header below fits
  if (d.size() < kFixedHeader) {
    std::array<std::uint8_t, kFixedHeader> padded{};
    std::copy(d.begin(), d.end(), padded.begin());
    return probe_dimensions(std::span<const std::uint8_t>(padded));
  }
  if (starts_with(d, {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'})) {
    if (d.size() < 24 || !std::equal(d.begin() + 12, d.begin() + 16, "IHDR")) return std::nullopt;
    return Dimensions{detail::be32(&d[16]), detail::be32(&d[20])};
  }
  if (starts_with(d, {0xFF, 0xD8})) return jpeg_dimensions(d);
  if (starts_with(d, {'G', 'I', 'F', '8'})) {
    if (d.size() < 10) return std::nullopt;
    return Dimensions{le16(&d[6]), le16(&d[8])};
  }
  if (starts_with(d, {'B', 'M'})) {
    if (d.size() < 26) return std::nullopt;
    if (le32(&d[14]) == 12) return Dimensions{le16(&d[18]), le16(&d[20])};
    const auto h = static_cast<std::int32_t>(le32(&d[22]));
    // The sign of the height says bottom-up or top-down; INT_MIN has no magnitude.
    const std::uint32_t abs_h = h < 0 ? 0u - static_cast<std::uint32_t>(h) : std::uint32_t(h);
    return Dimensions{le32(&d[18]), abs_h};
  }
  if (starts_with(d, {'8', 'B', 'P', 'S'})) {
    if (d.size() < 22) return std::nullopt;
    return Dimensions{detail::be32(&d[18]), detail::be32(&d[14])};
  }
  if (d.size() >= 2 && d[0] == 'P' && (d[1] == '5' || d[1] == '6')) return pnm_dimensions(d);
  // TGA has no magic: the same plausibility test stb applies before decoding one.
  if (d.size() >= 18 && d[1] <= 1 &&
      (d[2] == 1 || d[2] == 2 || d[2] == 3 || d[2] == 9 || d[2] == 10 || d[2] == 11)) {
    return Dimensions{le16(&d[12]), le16(&d[14])};
  }
  return std::nullopt;
}

std::optional<Dimensions> probe_file_dimensions(const std::filesystem::path& path) {
  try {
    Fd fd = Fd::open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    // JPEG frame headers may sit behind large APP segments: read more until one is found.
    std::vector<std::uint8_t> head;
    for (std::size_t want = std::size_t{16} * 1024;; want *= 4) {
      const std::size_t have = head.size();
      head.resize(want);
      const std::size_t got = read_fully(fd.get(), head.data() + have, want - have);
      head.resize(have + got);
      if (auto dims = probe_dimensions(head)) return dims;
      if (have + got < want || want >= (std::size_t{64} << 20)) return std::nullopt;
    }
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

void enforce_pixel_limit(std::uint64_t width, std::uint64_t height, std::uint64_t max_pixels) {
  // Both at most 2^32: the product cannot overflow.
  if (width * height > max_pixels) {
    throw ImageError(ImageStatus::kDecodeError, "exceeds --max-pixels (" + std::to_string(width) +
                                                    " x " + std::to_string(height) + " > " +
                                                    std::to_string(max_pixels) + ")");
  }
}

std::optional<Dimensions> check_pixel_limit(std::span<const std::uint8_t> encoded,
                                            std::uint64_t max_pixels) {
  const auto dims = probe_dimensions(encoded);
  if (dims) enforce_pixel_limit(dims->width, dims->height, max_pixels);
  return dims;
}

std::uint64_t image_memory_cost(std::uint64_t pixels) {
  // 16-bit RGBA inside stb (8 B) + the 8-bit result (4 B) + our copy (4 B) + gray (1 B) + the
  // encoder's filtered rows and output (about 2 B) + slack: 24 B per pixel bounds every format.
  return pixels * 24;
}

std::uint64_t default_memory_budget() {
  if (const char* env = std::getenv("GRAYBENCH_MEMORY_BUDGET")) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(env, &end, 10);
    if (end != env && *end == '\0' && v > 0) return v;
  }
  std::uint64_t avail = UINT64_MAX;
  {
    std::ifstream mi("/proc/meminfo");
    std::string key;
    std::uint64_t kb = 0;
    std::string unit;
    while (mi >> key >> kb) {
      std::getline(mi, unit);
      if (key == "MemAvailable:") {
        avail = kb * 1024;
        break;
      }
    }
  }
  // cgroup v2: the limit of this process's group, less what it already uses.
  std::ifstream cg("/proc/self/cgroup");
  std::string line;
  while (std::getline(cg, line)) {
    if (line.rfind("0::", 0) != 0) continue;
    const std::string dir = "/sys/fs/cgroup" + line.substr(3);
    std::ifstream max_f(dir + "/memory.max"), cur_f(dir + "/memory.current");
    std::string max_s;
    std::uint64_t cur = 0;
    if (max_f >> max_s && max_s != "max" && cur_f >> cur) {
      const std::uint64_t max = std::stoull(max_s);
      avail = std::min(avail, max > cur ? max - cur : 0);
    }
  }
  if (avail == UINT64_MAX) avail = std::uint64_t{8} << 30;
  return std::max<std::uint64_t>(avail / 4 * 3, std::uint64_t{64} << 20);
}

MemoryBudget::Lease& MemoryBudget::Lease::operator=(Lease&& o) noexcept {
  if (this != &o) {
    release();
    owner_ = o.owner_;
    bytes_ = o.bytes_;
    o.owner_ = nullptr;
  }
  return *this;
}

void MemoryBudget::Lease::release() noexcept {
  if (owner_) owner_->give_back(bytes_);
  owner_ = nullptr;
}

MemoryBudget::Lease MemoryBudget::acquire(std::uint64_t bytes) {
  std::unique_lock lk(m_);
  if (!fits(bytes)) {
    ++waits_;
    // Wake now and then to see a stop request: a waiting image must not delay SIGTERM.
    while (!cv_.wait_for(lk, std::chrono::milliseconds(50), [&] { return fits(bytes); })) {
      if (stop_requested()) throw StopRequested();
    }
  }
  used_ += bytes;
  return Lease(this, bytes);
}

std::optional<MemoryBudget::Lease> MemoryBudget::try_acquire(std::uint64_t bytes) {
  std::lock_guard lk(m_);
  if (!fits(bytes)) return std::nullopt;
  used_ += bytes;
  return Lease(this, bytes);
}

void MemoryBudget::record_wait() {
  std::lock_guard lk(m_);
  ++waits_;
}

std::uint64_t MemoryBudget::waits() const {
  std::lock_guard lk(m_);
  return waits_;
}

void MemoryBudget::give_back(std::uint64_t bytes) noexcept {
  {
    std::lock_guard lk(m_);
    used_ -= std::min(used_, bytes);
  }
  cv_.notify_all();
}

}  // namespace graybench
