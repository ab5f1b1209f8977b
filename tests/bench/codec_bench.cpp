// Google Benchmark micro-benchmarks of the codecs: JPEG and PNG decode per decoder, PNG encode
// per level, its row filter alone (and stb_image_write's encoder, for comparison), on real
// photographs when given:
//
//   export GRAYBENCH_BENCH_JPEG=/work/photos/set30/plasma-Kite.jpg
//   export GRAYBENCH_BENCH_PNG=/work/photos/set30/plasma-Cascade-3840x2160.png
//   build/tests/bench/codec_bench --benchmark_min_time=0.5s
//
// Without them, a synthetic 1920x1080 frame (gradient + low noise) stands in; each benchmark's
// label names its source. The encode benchmarks compress the gray of the JPEG source, which is
// what graybench writes. Throughput: pixels/s and bytes/s of the decoded image.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "io/codec.hpp"
#include "io/file.hpp"
#include "io/png_filter.hpp"
#include "kernel/grayscale.hpp"

namespace graybench {
namespace {

/// An encoded input and where it came from.
struct Source {
  std::vector<std::uint8_t> bytes;
  std::string label;
};

Image synthetic_frame() {
  Image img;
  img.width = 1920;
  img.height = 1080;
  img.channels = 3;
  img.pixels.resize(img.pixel_count() * 3);
  std::uint32_t state = 0x9E3779B9u;
  std::size_t i = 0;
  for (int y = 0; y < img.height; ++y) {
    for (int x = 0; x < img.width; ++x) {
      for (int c = 0; c < 3; ++c) {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        const int base = (x * (c + 1) + y * (3 - c)) / 8;
        img.pixels[i++] = static_cast<std::uint8_t>(base + static_cast<int>(state & 0x7u));
      }
    }
  }
  return img;
}

Source source(const char* env, bool jpeg) {
  if (const char* path = std::getenv(env); path && *path) return {read_file(path), path};
  static const Image frame = synthetic_frame();
  return {jpeg ? encode_jpeg(frame.pixels, frame.width, frame.height, 3, 90)
               : encode_png(frame.pixels, frame.width, frame.height, 3),
          jpeg ? "synthetic 1920x1080 JPEG q90" : "synthetic 1920x1080 PNG"};
}

const Source& jpeg_source() {
  static const Source s = source("GRAYBENCH_BENCH_JPEG", true);
  return s;
}

const Source& png_source() {
  static const Source s = source("GRAYBENCH_BENCH_PNG", false);
  return s;
}

/// The gray image graybench would write for the JPEG source.
const Image& gray_image() {
  static const Image gray = [] {
    const Image img = decode_image(jpeg_source().bytes);
    Image g;
    g.width = img.width;
    g.height = img.height;
    g.channels = 1;
    g.pixels.resize(img.pixel_count());
    to_gray(img.pixels, img.channels, g.pixels);
    return g;
  }();
  return gray;
}

void set_rates(benchmark::State& state, const Image& img, const std::string& label) {
  state.counters["pixels/s"] = benchmark::Counter(static_cast<double>(img.pixel_count()),
                                                  benchmark::Counter::kIsIterationInvariantRate);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * img.pixels.size()));
  state.SetLabel(label);
}

void decode(benchmark::State& state, const Source& src, Decoder decoder) {
  Image img;  // reused, as a worker reuses its buffers
  for (auto _ : state) {
    decode_image(src.bytes, img, decoder);
    benchmark::DoNotOptimize(img.pixels.data());
  }
  set_rates(state, img, src.label);
}

void BM_DecodeJpeg(benchmark::State& state) {
  decode(state, jpeg_source(), static_cast<Decoder>(state.range(0)));
}
BENCHMARK(BM_DecodeJpeg)
    ->ArgName("stb")
    ->Arg(static_cast<int>(Decoder::kAuto))
    ->Arg(static_cast<int>(Decoder::kStb))
    ->Unit(benchmark::kMillisecond);

void BM_DecodePng(benchmark::State& state) {
  decode(state, png_source(), static_cast<Decoder>(state.range(0)));
}
BENCHMARK(BM_DecodePng)
    ->ArgName("stb")
    ->Arg(static_cast<int>(Decoder::kAuto))
    ->Arg(static_cast<int>(Decoder::kStb))
    ->Unit(benchmark::kMillisecond);

void BM_EncodePng(benchmark::State& state) {
  const Image& g = gray_image();
  const int level = static_cast<int>(state.range(0));
  Bytes out;
  for (auto _ : state) {
    encode_png(g.pixels, g.width, g.height, 1, out, level);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["ratio"] = static_cast<double>(out.size()) / static_cast<double>(g.pixels.size());
  set_rates(state, g, "gray of " + jpeg_source().label);
}
BENCHMARK(BM_EncodePng)
    ->ArgName("level")
    ->DenseRange(kPngLevelMin, kPngLevelMax)
    ->Unit(benchmark::kMillisecond);

// The encoder's first half alone: the per-row min-sum filter choice and the filtered rows, as
// encode_png runs it. Its time against BM_EncodePng/level:1 is the filter's share of encode.
void BM_PngFilter(benchmark::State& state) {
  const Image& g = gray_image();
  const auto w = static_cast<std::size_t>(g.width), h = static_cast<std::size_t>(g.height);
  std::vector<std::uint8_t> filtered((w + 1) * h);
  for (auto _ : state) {
    detail::png_filter_rows(g.pixels.data(), w, h, 1, filtered.data());
    benchmark::DoNotOptimize(filtered.data());
  }
  set_rates(state, g, "gray of " + jpeg_source().label + ", SIMD " + detail::png_filter_target());
}
BENCHMARK(BM_PngFilter)->Unit(benchmark::kMillisecond);

void BM_EncodePngStb(benchmark::State& state) {
  const Image& g = gray_image();
  std::vector<std::uint8_t> out;
  for (auto _ : state) {
    out = encode_png_stb(g.pixels, g.width, g.height, 1);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["ratio"] = static_cast<double>(out.size()) / static_cast<double>(g.pixels.size());
  set_rates(state, g, "gray of " + jpeg_source().label);
}
BENCHMARK(BM_EncodePngStb)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace graybench
