#include "strategies/pipeline.hpp"

#include <algorithm>
#include <filesystem>
#include <utility>

#include "core/cancel.hpp"
#include "core/errors.hpp"
#include "io/codec.hpp"
#include "io/file.hpp"
#include "io/limits.hpp"
#include "kernel/checksum.hpp"
#include "kernel/grayscale.hpp"
#include "strategies/gil.hpp"

namespace graybench {

namespace {
/// The kernel, under the emulated GIL when one is given: in slices, so the holder can hand
/// the lock over at the switch interval as CPython does between bytecodes.
void convert(const Image& img, std::span<std::uint8_t> gray, Gil* gil) {
  const std::size_t n = gray.size();
  const auto ch = static_cast<std::size_t>(img.channels);
  if (!gil) {
    // Slices keep a stop request (SIGTERM) answered within a fraction of a second even for
    // the largest image --max-pixels allows.
    constexpr std::size_t kStopSlice = std::size_t{1} << 22;
    for (std::size_t p = 0; p < n; p += kStopSlice) {
      const std::size_t m = std::min(kStopSlice, n - p);
      to_gray(std::span(img.pixels).subspan(p * ch, m * ch), img.channels, gray.subspan(p, m));
      throw_if_stopped();
    }
    return;
  }
  constexpr std::size_t kSlice = 16384;  // pixels: ~10 us of work between switch checks
  GilSection hold(gil);
  for (std::size_t p = 0; p < n; p += kSlice) {
    const std::size_t m = std::min(kSlice, n - p);
    to_gray(std::span(img.pixels).subspan(p * ch, m * ch), img.channels, gray.subspan(p, m));
    gil->maybe_yield();
  }
  throw_if_stopped();
}

std::uint64_t pixel_limit(std::uint64_t max_pixels) {
  return max_pixels ? max_pixels : kNoPixelLimit;
}

/// Decodes under the pixel limit: the header is checked before any decoder allocates anything,
/// as our probe reads it (first, as in files mode, so both modes give a bomb the same reason)
/// and as the decoder itself reads it.
Image decode_limited(std::span<const std::uint8_t> encoded, Decoder decoder,
                     std::uint64_t max_pixels) {
  check_pixel_limit(encoded, pixel_limit(max_pixels));
  Image img;
  decode_image(encoded, img, decoder, pixel_limit(max_pixels));
  return img;
}

/// Buffers reused from one image to the next by the thread (worker) processing them: after the
/// first images, reading, decoding, converting and encoding allocate nothing and touch no fresh
/// pages (page faults on fresh buffers cost ~20 % of the decode-only profile).
struct Scratch {
  std::vector<std::uint8_t> encoded;
  Image image;
  std::vector<std::uint8_t> gray;
  Bytes png;
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}
}  // namespace

ImageRecord process_image(const WorkItem& item, const WorkOptions& options,
                          Clock::time_point origin, std::vector<std::uint8_t>* gray_out) {
  ImageRecord rec;
  rec.image = item.index;
  rec.path = item.file.path;
  rec.attempts = 1;  // the processes parent says when this is a retry
  // Memory from the rank's budget, held until the record's end time is taken: the span the
  // record shows always lies inside the time the memory was held.
  MemoryBudget::Lease lease;
  auto t = Clock::now();
  rec.t_start = seconds_between(origin, t);
  auto lap = [&t]() {
    const auto now = Clock::now();
    const double d = seconds_between(t, now);
    t = now;
    return d;
  };
  try {
    if (item.preload_status != ImageStatus::kOk) {
      throw ImageError(item.preload_status, item.preload_error);
    }
    Scratch& buf = scratch();
    if (!item.decoded) {
      read_file(item.file.path, buf.encoded);
      rec.bytes_in = buf.encoded.size();
      rec.read_s = lap();
      const auto dims = check_pixel_limit(buf.encoded, pixel_limit(options.max_pixels));
      if (options.budget) {
        // Unknown dimensions: the decoder will most likely refuse the file; count its size.
        lease =
            options.budget->acquire(dims ? image_memory_cost(dims->pixels()) : buf.encoded.size());
        t = Clock::now();  // waiting for memory is no phase of the image's own work
      }
      decode_image(buf.encoded, buf.image, options.decoder, pixel_limit(options.max_pixels));
      rec.decode_s = lap();
    } else {
      rec.bytes_in = item.file.size;  // memory mode: read and decode happened before the clock
    }
    const Image& img = item.decoded ? *item.decoded : buf.image;
    rec.width = static_cast<std::uint32_t>(img.width);
    rec.height = static_cast<std::uint32_t>(img.height);
    rec.channels = static_cast<std::uint32_t>(img.channels);
    rec.bit_depth = static_cast<std::uint32_t>(img.bit_depth);

    std::vector<std::uint8_t>& gray = buf.gray;
    gray.resize(img.pixel_count());
    for (int k = 0; k < options.kernel_repeat; ++k)
      convert(img, gray, options.gil);
    rec.checksum = checksum64(gray);
    rec.convert_s = lap();

    if (!options.output_dir.empty()) {
      encode_png(gray, img.width, img.height, 1, buf.png, options.png_level);
      rec.bytes_out = buf.png.size();
      rec.encode_s = lap();
      write_file_atomically(std::filesystem::path(options.output_dir) / item.file.output_rel,
                            buf.png);
      rec.write_s = lap();
    }
    if (gray_out) gray_out->swap(gray);  // the caller's old buffer becomes our next scratch
  } catch (const ImageError& e) {
    rec.status = e.status();
    rec.error = e.what();
    rec.checksum = 0;
  } catch (const StopRequested& e) {
    rec.status = ImageStatus::kNotProcessed;
    rec.error = e.what();
    rec.checksum = 0;
  } catch (const std::bad_alloc&) {
    rec.status = ImageStatus::kInternalError;
    rec.error = "out of memory";
    rec.checksum = 0;
  } catch (const std::exception& e) {
    rec.status = ImageStatus::kInternalError;
    rec.error = e.what();
    rec.checksum = 0;
  }
  rec.t_end = seconds_between(origin, Clock::now());
  return rec;
}

void preload(WorkItem& item, Decoder decoder, std::uint64_t max_pixels) {
  try {
    item.decoded = decode_limited(read_file(item.file.path), decoder, max_pixels);
  } catch (const ImageError& e) {
    item.preload_status = e.status();
    item.preload_error = e.what();
  } catch (const std::exception& e) {
    item.preload_status = ImageStatus::kInternalError;
    item.preload_error = e.what();
  }
}

void order_largest_first(std::vector<WorkItem>& items) {
  std::vector<std::pair<std::uint64_t, std::size_t>> keys;
  keys.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i)
    keys.emplace_back(probe_pixels(items[i].file.path).value_or(items[i].file.size), i);
  std::stable_sort(keys.begin(), keys.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<WorkItem> sorted;
  sorted.reserve(items.size());
  for (const auto& k : keys)
    sorted.push_back(std::move(items[k.second]));
  items = std::move(sorted);
}

ImageRecord unprocessed_record(const WorkItem& item, ImageStatus status, const std::string& why) {
  ImageRecord rec;
  rec.image = item.index;
  rec.path = item.file.path;
  rec.bytes_in = 0;
  rec.status = status;
  rec.error = why;
  rec.attempts = 0;  // no worker took it
  return rec;
}

}  // namespace graybench
