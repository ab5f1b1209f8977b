// Google Benchmark micro-benchmarks of the per-image work every strategy does: the grayscale
// kernel, the checksum, and PNG decode/encode, on one Full HD frame.
//
//   build/tests/bench/kernel_bench --benchmark_min_time=0.5s
//
// Throughput is reported as bytes/s of *input* (SetBytesProcessed) and, where an image is
// involved, as pixels/s (a rate counter), so channel counts and codecs compare directly.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "io/codec.hpp"
#include "kernel/checksum.hpp"
#include "kernel/grayscale.hpp"

namespace graybench {
namespace {

constexpr int kWidth = 1920;
constexpr int kHeight = 1080;
constexpr std::size_t kPixels = static_cast<std::size_t>(kWidth) * kHeight;

/// Deterministic samples: a smooth gradient per channel plus low-amplitude xorshift noise, so
/// the PNG neither collapses to nothing (flat image) nor is incompressible (pure noise).
std::vector<std::uint8_t> make_pixels(int channels) {
  std::vector<std::uint8_t> out(kPixels * static_cast<std::size_t>(channels));
  std::uint32_t state = 0x9E3779B9u;
  std::size_t i = 0;
  for (int y = 0; y < kHeight; ++y) {
    for (int x = 0; x < kWidth; ++x) {
      for (int c = 0; c < channels; ++c) {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        const int base = (x * (c + 1) + y * (3 - c % 3)) / 8;
        out[i++] = static_cast<std::uint8_t>(base + static_cast<int>(state & 0x7u));
      }
    }
  }
  return out;
}

/// The pixels/s counter: per-iteration pixel count turned into a rate by the framework.
void count_pixels(benchmark::State& state) {
  state.counters["pixels/s"] = benchmark::Counter(static_cast<double>(kPixels),
                                                  benchmark::Counter::kIsIterationInvariantRate);
}

const std::vector<std::uint8_t>& rgb_pixels() {
  static const std::vector<std::uint8_t> pixels = make_pixels(3);
  return pixels;
}

const std::vector<std::uint8_t>& rgb_png() {
  static const std::vector<std::uint8_t> png = encode_png(rgb_pixels(), kWidth, kHeight, 3);
  return png;
}

void BM_ToGray(benchmark::State& state) {
  const int channels = static_cast<int>(state.range(0));
  const std::vector<std::uint8_t> src = make_pixels(channels);
  std::vector<std::uint8_t> gray(kPixels);
  for (auto _ : state) {
    to_gray(src, channels, gray);
    benchmark::DoNotOptimize(gray.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(src.size()));
  count_pixels(state);
}
BENCHMARK(BM_ToGray)->ArgName("channels")->DenseRange(1, 4);

void BM_Fnv1a64(benchmark::State& state) {
  const std::vector<std::uint8_t> gray = make_pixels(1);
  for (auto _ : state) {
    std::uint64_t h = fnv1a64(gray);
    benchmark::DoNotOptimize(h);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(gray.size()));
  count_pixels(state);
}
BENCHMARK(BM_Fnv1a64);

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
  const std::vector<std::uint8_t>& pixels = rgb_pixels();
  std::size_t encoded = 0;
  for (auto _ : state) {
    std::vector<std::uint8_t> png = encode_png(pixels, kWidth, kHeight, 3);
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
