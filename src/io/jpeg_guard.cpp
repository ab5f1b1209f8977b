#include "io/jpeg_guard.hpp"

namespace graybench {

namespace {

/// One DHT segment's payload (after the length field).
std::optional<std::string> check_dht(std::span<const std::uint8_t> seg) {
  std::size_t i = 0;
  while (i < seg.size()) {
    const int tc = seg[i] >> 4, th = seg[i] & 15;
    if (tc > 1 || th > 3)
      return "bad Huffman table header (class " + std::to_string(tc) + ", id " +
             std::to_string(th) + ")";
    if (i + 17 > seg.size()) return std::string("Huffman table cut short");
    unsigned total = 0;
    std::uint64_t code = 0;
    for (int len = 1; len <= 16; ++len) {
      const unsigned count = seg[i + static_cast<std::size_t>(len)];
      total += count;
      // Canonical codes of this length run from `code` upward: they must fit in len bits.
      code += count;
      if (code > (std::uint64_t{1} << len)) {
        return "Huffman table overflows its code space at length " + std::to_string(len);
      }
      code <<= 1;
    }
    if (total > 256) {
      return "Huffman table declares " + std::to_string(total) + " codes (at most 256)";
    }
    i += 17 + total;
    if (i > seg.size()) return std::string("Huffman table cut short");
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> jpeg_huffman_problem(std::span<const std::uint8_t> d) {
  if (d.size() < 2 || d[0] != 0xFF) return std::nullopt;  // not a JPEG
  std::size_t i = 1;
  while (i < d.size() && d[i] == 0xFF)
    ++i;  // stb skips fill bytes before the SOI marker too (FF FF D8 is a JPEG to it)
  if (i >= d.size() || d[i] != 0xD8) return std::nullopt;  // not a JPEG
  ++i;
  while (i + 1 < d.size()) {
    if (d[i] != 0xFF) {
      ++i;  // entropy-coded data or junk between segments: stb scans forward the same way
      continue;
    }
    const std::uint8_t m = d[i + 1];
    if (m == 0xFF || m == 0x00 || (m >= 0xD0 && m <= 0xD8) || m == 0x01) {
      i += (m == 0xFF) ? 1 : 2;  // fill byte, stuffed zero, restart markers, SOI, TEM
      continue;
    }
    if (m == 0xD9) return std::nullopt;         // end of image
    if (i + 4 > d.size()) return std::nullopt;  // cut short: the decoder reports it
    const std::size_t len = std::size_t{d[i + 2]} << 8 | d[i + 3];
    if (len < 2) return std::nullopt;
    const std::size_t end = std::min(d.size(), i + 2 + len);
    if (m == 0xC4) {
      // stb reads a cut-short segment past its end into the next bytes: check what it would.
      auto problem = check_dht(d.subspan(i + 4, end - (i + 4)));
      if (problem) return problem;
    }
    i += 2 + len;
  }
  return std::nullopt;
}

}  // namespace graybench
