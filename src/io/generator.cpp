#include "io/generator.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/errors.hpp"
#include "io/codec.hpp"
#include "io/file.hpp"

namespace graybench {

namespace fs = std::filesystem;

namespace {

/// splitmix64: tiny, fast, and identical on every platform (std distributions are not).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }

 private:
  std::uint64_t s_;
};

std::vector<std::string> split_csv(const std::string& csv) {
  std::vector<std::string> out;
  std::stringstream ss(csv);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  if (out.empty()) throw UsageError("empty list: '" + csv + "'");
  return out;
}

int channels_of(GenMode m) {
  switch (m) {
    case GenMode::kGray:
    case GenMode::kGray16:
      return 1;
    case GenMode::kGrayAlpha:
      return 2;
    case GenMode::kRgb:
    case GenMode::kRgb16:
      return 3;
    case GenMode::kRgba:
      return 4;
  }
  return 3;
}

bool is16(GenMode m) {
  return m == GenMode::kRgb16 || m == GenMode::kGray16;
}

/// 16-bit samples of a smooth scene with shapes and noise: gradients exercise every luma value,
/// edges and noise give JPEG realistic work.
std::vector<std::uint16_t> render(int w, int h, int channels, Rng& rng) {
  struct Shape {
    int x0, y0, x1, y1;
    bool disc;
    std::uint16_t color[4];
  };
  std::vector<Shape> shapes(4 + rng.below(5));
  for (auto& s : shapes) {
    s.x0 = rng.below(w);
    s.y0 = rng.below(h);
    s.x1 = s.x0 + 1 + rng.below(w / 2 + 1);
    s.y1 = s.y0 + 1 + rng.below(h / 2 + 1);
    s.disc = rng.below(2) == 0;
    for (auto& c : s.color)
      c = static_cast<std::uint16_t>(rng.next());
  }
  const double phase = static_cast<double>(rng.below(628)) / 100.0;
  std::vector<std::uint16_t> px(static_cast<std::size_t>(w) * h * channels);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      std::uint16_t v[4];
      const double fx = static_cast<double>(x) / w, fy = static_cast<double>(y) / h;
      v[0] = static_cast<std::uint16_t>(65535.0 * fx);
      v[1] = static_cast<std::uint16_t>(65535.0 * fy);
      v[2] = static_cast<std::uint16_t>(32767.5 * (1.0 + std::sin(phase + 9.0 * (fx + fy))));
      v[3] = static_cast<std::uint16_t>(65535.0 * (1.0 - 0.5 * fx));
      for (const auto& s : shapes) {
        bool in = x >= s.x0 && x < s.x1 && y >= s.y0 && y < s.y1;
        if (in && s.disc) {
          const double cx = (s.x0 + s.x1) / 2.0, cy = (s.y0 + s.y1) / 2.0;
          const double rx = (s.x1 - s.x0) / 2.0, ry = (s.y1 - s.y0) / 2.0;
          in = ((x - cx) * (x - cx)) / (rx * rx) + ((y - cy) * (y - cy)) / (ry * ry) <= 1.0;
        }
        if (in) std::copy(s.color, s.color + 4, v);
      }
      const std::uint64_t noise = rng.next();
      auto* out = &px[(static_cast<std::size_t>(y) * w + x) * channels];
      for (int c = 0; c < channels; ++c) {
        const int n = static_cast<int>((noise >> (16 * c)) & 0xFFF) - 0x800;
        out[c] = static_cast<std::uint16_t>(std::clamp(static_cast<int>(v[c]) + n, 0, 65535));
      }
    }
  }
  return px;
}

}  // namespace

std::vector<GenMode> parse_gen_modes(const std::string& csv) {
  std::vector<GenMode> out;
  for (const auto& s : split_csv(csv))
    out.push_back(parse_enum_or_throw<GenMode>(s, "--modes"));
  return out;
}

std::vector<GenFormat> parse_gen_formats(const std::string& csv) {
  std::vector<GenFormat> out;
  for (const auto& s : split_csv(csv))
    out.push_back(parse_enum_or_throw<GenFormat>(s, "--formats"));
  return out;
}

std::vector<GenSize> parse_gen_sizes(const std::string& csv) {
  std::vector<GenSize> out;
  for (const auto& s : split_csv(csv)) {
    GenSize size;
    char x = 0, extra = 0;
    if (std::sscanf(s.c_str(), "%d%c%d%c", &size.width, &x, &size.height, &extra) != 3 ||
        x != 'x' || size.width <= 0 || size.height <= 0 || size.width > 65535 ||
        size.height > 65535) {
      throw UsageError("bad size '" + s + "' (expected WIDTHxHEIGHT, e.g. 640x480)");
    }
    out.push_back(size);
  }
  return out;
}

std::vector<fs::path> generate_dataset(const fs::path& dir, const GenOptions& o,
                                       const std::function<void(int)>& on_written) {
  if (o.count < 0) throw UsageError("--count must be >= 0");
  if (o.subdirs < 1) throw UsageError("--subdirs must be >= 1");
  if (o.sizes.empty() || o.formats.empty() || o.modes.empty()) {
    throw UsageError("sizes, formats and modes must not be empty");
  }
  std::vector<fs::path> written;
  for (int i = 0; i < o.count; ++i) {
    Rng rng(o.seed * 0x100000001B3ull + static_cast<std::uint64_t>(i));
    const GenMode mode = o.modes[static_cast<std::size_t>(i) % o.modes.size()];
    const GenFormat format =
        o.formats[(static_cast<std::size_t>(i) / o.modes.size()) % o.formats.size()];
    const GenSize size =
        o.sizes[static_cast<std::size_t>(rng.below(static_cast<int>(o.sizes.size())))];
    const int channels = channels_of(mode);
    const auto samples = render(size.width, size.height, channels, rng);

    std::vector<std::uint8_t> encoded;
    if (format == GenFormat::kPng && is16(mode)) {
      std::vector<std::uint8_t> be(samples.size() * 2);
      for (std::size_t k = 0; k < samples.size(); ++k) {
        be[2 * k] = static_cast<std::uint8_t>(samples[k] >> 8);
        be[2 * k + 1] = static_cast<std::uint8_t>(samples[k] & 0xFF);
      }
      encoded = encode_png16(be, size.width, size.height, channels);
    } else {
      // JPEG keeps only gray or RGB: drop alpha.
      const int out_channels = format == GenFormat::kJpeg ? (channels >= 3 ? 3 : 1) : channels;
      std::vector<std::uint8_t> px(static_cast<std::size_t>(size.width) * size.height *
                                   out_channels);
      for (std::size_t p = 0, n = px.size() / out_channels; p < n; ++p) {
        for (int c = 0; c < out_channels; ++c) {
          px[p * out_channels + c] = static_cast<std::uint8_t>(samples[p * channels + c] >> 8);
        }
      }
      encoded = format == GenFormat::kPng
                    ? encode_png(px, size.width, size.height, out_channels)
                    : encode_jpeg(px, size.width, size.height, out_channels, o.jpeg_quality);
    }
    char name[64];
    std::snprintf(name, sizeof name, "set-%d/img-%05d.%s", i % o.subdirs, i / o.subdirs,
                  std::string(name_of(format)).c_str());
    const fs::path path = dir / name;
    write_file_atomically(path, encoded);
    written.push_back(path);
    if (on_written) on_written(static_cast<int>(written.size()));
  }
  return written;
}

}  // namespace graybench
