// Google Benchmark micro-benchmarks of the per-image work every strategy does: the grayscale
// kernel per format next to memcpy of the same bytes, the checksum, and PNG decode/encode.
//
//   build/tests/bench/kernel_bench --benchmark_min_time=0.5s
//   GRAYBENCH_BENCH_IMAGE=/path/photo.jpg build/tests/bench/kernel_bench   # a real photograph
//
// Without GRAYBENCH_BENCH_IMAGE the frame is a synthetic 1920x1080 gradient with noise. With it,
// the photograph's decoded pixels are the frame (its RGB, plus RGBA/LA/L derived from them).
//
// Kernel and memcpy rates are memory traffic: bytes/s counts bytes read plus bytes written
// (STREAM's Copy convention, as the run attribute membw_gbps), so `of_memcpy` = kernel bytes/s
// over memcpy bytes/s of the same frame in this process is the kernel's share of the copy
// bound. pixels/s is a rate counter; the label names the SIMD target.
#include <benchmark/benchmark.h>
#include <time.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "io/codec.hpp"
#include "io/file.hpp"
#include "kernel/checksum.hpp"
#include "kernel/grayscale.hpp"

namespace graybench {
namespace {

/// Deterministic samples: a smooth gradient per channel plus low-amplitude xorshift noise, so
/// the PNG neither collapses to nothing (flat image) nor is incompressible (pure noise).
Image synthetic_frame(int width, int height, int channels) {
  Image img;
  img.width = width;
  img.height = height;
  img.channels = channels;
  img.pixels.resize(img.pixel_count() * static_cast<std::size_t>(channels));
  std::uint32_t state = 0x9E3779B9u;
  std::size_t i = 0;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < channels; ++c) {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        const int base = (x * (c + 1) + y * (3 - c % 3)) / 8;
        img.pixels[i++] = static_cast<std::uint8_t>(base + static_cast<int>(state & 0x7u));
      }
    }
  }
  return img;
}

/// The RGB frame every benchmark uses: the photograph named by GRAYBENCH_BENCH_IMAGE (reduced
/// or expanded to RGB), else the synthetic frame.
const Image& rgb_frame() {
  static const Image frame = [] {
    const char* path = std::getenv("GRAYBENCH_BENCH_IMAGE");
    if (path == nullptr || *path == '\0') return synthetic_frame(1920, 1080, 3);
    Image img = decode_image(read_file(path));
    if (img.channels == 3) return img;
    Image rgb;
    rgb.width = img.width;
    rgb.height = img.height;
    rgb.channels = 3;
    rgb.pixels.resize(img.pixel_count() * 3);
    for (std::size_t i = 0; i < img.pixel_count(); ++i) {
      const std::uint8_t* px = &img.pixels[i * static_cast<std::size_t>(img.channels)];
      for (int c = 0; c < 3; ++c)
        rgb.pixels[3 * i + c] = img.channels >= 3 ? px[c] : px[0];
    }
    return rgb;
  }();
  return frame;
}

std::size_t frame_pixels() {
  return rgb_frame().pixel_count();
}

/// The frame in `channels` samples per pixel: L and LA take the kernel's own gray, RGBA adds
/// a varying alpha.
std::vector<std::uint8_t> frame_samples(int channels) {
  const Image& rgb = rgb_frame();
  const std::size_t n = rgb.pixel_count();
  if (channels == 3) return {rgb.pixels.begin(), rgb.pixels.end()};
  std::vector<std::uint8_t> gray(n);
  to_gray(rgb.pixels, 3, gray);
  std::vector<std::uint8_t> out(n * static_cast<std::size_t>(channels));
  for (std::size_t i = 0; i < n; ++i) {
    switch (channels) {
      case 1:
        out[i] = gray[i];
        break;
      case 2:
        out[2 * i] = gray[i];
        out[2 * i + 1] = static_cast<std::uint8_t>(i);
        break;
      default:
        std::memcpy(&out[4 * i], &rgb.pixels[3 * i], 3);
        out[4 * i + 3] = static_cast<std::uint8_t>(i);
        break;
    }
  }
  return out;
}

/// This thread's CPU time in seconds: the clock Google Benchmark's rates use by default.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

/// memcpy of `bytes` between two buffers: read + written bytes per CPU second, best of ~0.2 s
/// of copies. The reference the kernels are set against, timed like them (CPU time), so a busy
/// machine does not distort the ratio.
double memcpy_traffic_rate(std::size_t bytes) {
  std::vector<std::uint8_t> src(bytes, 1), dst(bytes, 2);
  double best = 0;
  const double until = thread_cpu_seconds() + 0.2;
  for (int i = 0; i < 5 || thread_cpu_seconds() < until; ++i) {
    const double t0 = thread_cpu_seconds();
    std::memcpy(dst.data(), src.data(), bytes);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
    const double s = thread_cpu_seconds() - t0;
    if (s > 0) best = std::max(best, 2.0 * static_cast<double>(bytes) / s);
  }
  return best;
}

void count_pixels(benchmark::State& state) {
  state.counters["pixels/s"] = benchmark::Counter(static_cast<double>(frame_pixels()),
                                                  benchmark::Counter::kIsIterationInvariantRate);
}

std::string frame_label() {
  const Image& f = rgb_frame();
  const char* path = std::getenv("GRAYBENCH_BENCH_IMAGE");
  return std::to_string(f.width) + "x" + std::to_string(f.height) +
         (path != nullptr && *path != '\0' ? " photo" : " synthetic");
}

/// memcpy of the frame in `channels` samples per pixel: the copy bound for that format.
void BM_Memcpy(benchmark::State& state) {
  const int channels = static_cast<int>(state.range(0));
  const std::vector<std::uint8_t> src = frame_samples(channels);
  std::vector<std::uint8_t> dst(src.size());
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), src.size());
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(2 * src.size()));
  count_pixels(state);
  state.SetLabel(frame_label());
}
BENCHMARK(BM_Memcpy)->ArgName("channels")->Arg(3)->Arg(4);

/// The kernel per format (1 L copy, 2 LA, 3 RGB, 4 RGBA) on the dispatched SIMD target;
/// `of_memcpy` sets its traffic rate against memcpy of the same input size in this process.
void BM_ToGray(benchmark::State& state) {
  const int channels = static_cast<int>(state.range(0));
  const std::vector<std::uint8_t> src = frame_samples(channels);
  std::vector<std::uint8_t> gray(frame_pixels());
  for (auto _ : state) {
    to_gray(src, channels, gray);
    benchmark::DoNotOptimize(gray.data());
    benchmark::ClobberMemory();
  }
  const double traffic = static_cast<double>(src.size() + gray.size());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(traffic));
  count_pixels(state);
  // Rates are only known after the loop: the framework divides by the measured time, so the
  // share is stored as a rate of (traffic / memcpy rate) per iteration.
  state.counters["of_memcpy"] = benchmark::Counter(traffic / memcpy_traffic_rate(src.size()),
                                                   benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(simd_target() + " " + frame_label());
}
BENCHMARK(BM_ToGray)->ArgName("channels")->DenseRange(1, 4);

/// RGB on every SIMD target this CPU supports, to show what the dispatch buys.
void BM_ToGrayRgbPerTarget(benchmark::State& state) {
  const std::vector<std::string> targets = simd_targets_available();
  const auto index = static_cast<std::size_t>(state.range(0));
  if (index >= targets.size()) {
    state.SkipWithError("no such target on this CPU");
    return;
  }
  force_simd_target(targets[index]);
  const std::vector<std::uint8_t> src = frame_samples(3);
  std::vector<std::uint8_t> gray(frame_pixels());
  for (auto _ : state) {
    to_gray(src, 3, gray);
    benchmark::DoNotOptimize(gray.data());
    benchmark::ClobberMemory();
  }
  force_simd_target("");
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(src.size() + gray.size()));
  count_pixels(state);
  state.SetLabel(targets[index]);
}
BENCHMARK(BM_ToGrayRgbPerTarget)->ArgName("target")->DenseRange(0, 6);

/// The per-image checksum (XXH3-64) over the frame's gray bytes; bytes/s of input.
void BM_Checksum(benchmark::State& state) {
  const std::vector<std::uint8_t> gray = frame_samples(1);
  for (auto _ : state) {
    std::uint64_t h = checksum64(gray);
    benchmark::DoNotOptimize(h);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(gray.size()));
  count_pixels(state);
  state.SetLabel(std::string(kChecksumAlgorithm));
}
BENCHMARK(BM_Checksum);

/// The former checksum, FNV-1a 64, for comparison.
void BM_Fnv1a64(benchmark::State& state) {
  const std::vector<std::uint8_t> gray = frame_samples(1);
  for (auto _ : state) {
    std::uint64_t h = fnv1a64(gray);
    benchmark::DoNotOptimize(h);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(gray.size()));
  count_pixels(state);
}
BENCHMARK(BM_Fnv1a64);

const std::vector<std::uint8_t>& rgb_png() {
  static const std::vector<std::uint8_t> png =
      encode_png(rgb_frame().pixels, rgb_frame().width, rgb_frame().height, 3);
  return png;
}

void BM_DecodePngRgb(benchmark::State& state) {
  const std::vector<std::uint8_t>& png = rgb_png();
  for (auto _ : state) {
    Image image = decode_image(png);
    benchmark::DoNotOptimize(image.pixels.data());
  }
  // Input is the encoded file, as read from disk in `files` mode.
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(png.size()));
  count_pixels(state);
  state.SetLabel(std::to_string(png.size()) + " B png");
}
BENCHMARK(BM_DecodePngRgb)->Unit(benchmark::kMillisecond);

void BM_EncodePngRgb(benchmark::State& state) {
  const Bytes& pixels = rgb_frame().pixels;
  std::size_t encoded = 0;
  for (auto _ : state) {
    std::vector<std::uint8_t> png = encode_png(pixels, rgb_frame().width, rgb_frame().height, 3);
    encoded = png.size();
    benchmark::DoNotOptimize(png.data());
  }
  // Input is the raw interleaved samples handed to the encoder.
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(pixels.size()));
  count_pixels(state);
  state.SetLabel(std::to_string(encoded) + " B png");
}
BENCHMARK(BM_EncodePngRgb)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace graybench
