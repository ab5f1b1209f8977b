// PNG encode over a whole set of photographs, as graybench writes them (gray, 1 channel):
//
//   build/tests/bench/png_set_bench /work/photos/set30 [repetitions=5] [level ...=1]
//
// Each image is decoded and converted with graybench's own code first; then, per level and
// repetition, every image is encoded (thread CPU time) and its row-filter pass timed alone.
// Prints medians: encode seconds and MB/s of gray input, the filter's share, total bytes.
// Compare the bytes with Pillow's for the same files: the sum over them of the length of
// `Image.open(path).convert("L").save(io.BytesIO(), "PNG")`'s output (docs/codecs.md).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "io/codec.hpp"
#include "io/file.hpp"
#include "io/png_filter.hpp"
#include "kernel/grayscale.hpp"

namespace {

double thread_cpu_s() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int run(int argc, char** argv) {
  using namespace graybench;
  if (argc < 2) {
    std::fprintf(stderr, "usage: png_set_bench DIR [repetitions] [level ...]\n");
    return 2;
  }
  std::vector<std::filesystem::path> paths;
  for (const auto& e : std::filesystem::recursive_directory_iterator(argv[1])) {
    const std::string ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".png" || ext == ".jpg" || ext == ".jpeg"))
      paths.push_back(e.path());
  }
  std::sort(paths.begin(), paths.end());
  const int reps = argc > 2 ? std::max(1, std::stoi(argv[2])) : 5;
  std::vector<int> levels;
  for (int i = 3; i < argc; ++i)
    levels.push_back(std::stoi(argv[i]));
  if (levels.empty()) levels.push_back(kPngLevelDefault);

  std::vector<Image> gray;
  double gray_bytes = 0;
  for (const auto& p : paths) {
    const Image img = decode_image(read_file(p.string()));
    Image g;
    g.width = img.width;
    g.height = img.height;
    g.channels = 1;
    g.pixels.resize(img.pixel_count());
    to_gray(img.pixels, img.channels, g.pixels);
    gray_bytes += static_cast<double>(g.pixels.size());
    gray.push_back(std::move(g));
  }
  std::printf("%zu images, %.1f MB gray, filter SIMD %s\n", gray.size(), gray_bytes / 1e6,
              detail::png_filter_target().c_str());

  Bytes out, filtered;
  for (int level : levels) {
    std::vector<double> encode_s, filter_s;
    std::size_t bytes = 0;
    for (int r = 0; r < reps; ++r) {
      double enc = 0, fil = 0;
      bytes = 0;
      for (const Image& g : gray) {
        const auto w = static_cast<std::size_t>(g.width), h = static_cast<std::size_t>(g.height);
        double t0 = thread_cpu_s();
        encode_png(g.pixels, g.width, g.height, 1, out, level);
        enc += thread_cpu_s() - t0;
        bytes += out.size();
        filtered.resize((w + 1) * h);
        t0 = thread_cpu_s();
        detail::png_filter_rows(g.pixels.data(), w, h, 1, filtered.data());
        fil += thread_cpu_s() - t0;
      }
      encode_s.push_back(enc);
      filter_s.push_back(fil);
    }
    const double e = median(encode_s), f = median(filter_s);
    std::printf(
        "level %2d: encode %.3f s  %6.1f MB/s  filter %.3f s (%4.1f %%)  deflate+rest %.3f s  "
        "bytes %zu\n",
        level, e, gray_bytes / e / 1e6, f, 100 * f / e, e - f, bytes);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "png_set_bench: %s\n", e.what());
    return 1;
  }
}
