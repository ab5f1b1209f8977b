#include "io/stb_guard.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "io/codec_internal.hpp"

namespace graybench {

namespace {

/// Which Huffman tables (class 0 = DC, 1 = AC; id 0-3) the file has defined so far.
using Defined = std::array<std::array<bool, 4>, 2>;

/// One DHT segment's payload (after the length field); marks the tables it defines.
std::optional<std::string> check_dht(std::span<const std::uint8_t> seg, Defined& defined) {
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
    defined[static_cast<std::size_t>(tc)][static_cast<std::size_t>(th)] = true;
  }
  return std::nullopt;
}

/// One SOS segment's payload: every Huffman table the scan will decode with must have been
/// defined before it. stb_image 2.27 allocates its tables uninitialised and indexes them with
/// whatever an undefined table holds (found by fuzz_decode_stb: index -16776553 out of bounds).
/// Which tables a scan uses, as stb decodes it: baseline, DC and AC of every component;
/// progressive, DC for a first DC scan (Ss = 0, Ah = 0), none for a DC refinement, AC otherwise.
/// `len` is the declared payload length; bytes past the end of the file read as zeros, as stb
/// reads them.
std::optional<std::string> check_sos(std::span<const std::uint8_t> seg, std::size_t len,
                                     bool progressive, const Defined& defined) {
  auto at = [&](std::size_t k) { return k < seg.size() ? seg[k] : std::uint8_t{0}; };
  const std::size_t n = at(0);
  if (len != 1 + 2 * n + 3) return std::nullopt;  // stb refuses it: "bad SOS len"
  const std::uint8_t ss = at(1 + 2 * n), ah = at(3 + 2 * n) >> 4;
  const bool uses_dc = !progressive || (ss == 0 && ah == 0);
  const bool uses_ac = !progressive || ss != 0;
  for (std::size_t c = 0; c < n; ++c) {
    const std::size_t dc = at(2 + 2 * c) >> 4, ac = at(2 + 2 * c) & 15;
    if (dc > 3 || ac > 3) return std::nullopt;  // stb refuses it: "bad DC/AC huff"
    if (uses_dc && !defined[0][dc]) {
      return "scan uses DC Huffman table " + std::to_string(dc) + ", never defined";
    }
    if (uses_ac && !defined[1][ac]) {
      return "scan uses AC Huffman table " + std::to_string(ac) + ", never defined";
    }
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
  Defined defined{};
  bool progressive = false;
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
    // stb reads a cut-short segment past its end into the next bytes: check what it would.
    const auto payload = d.subspan(i + 4, end - (i + 4));
    if (m == 0xC2) progressive = true;
    if (m == 0xC4) {
      if (auto problem = check_dht(payload, defined)) return problem;
    }
    if (m == 0xDA) {
      if (auto problem = check_sos(payload, len - 2, progressive, defined)) return problem;
    }
    i += 2 + len;
  }
  return std::nullopt;
}

std::optional<std::string> pnm_header_problem(std::span<const std::uint8_t> d) {
  if (d.size() < 2 || d[0] != 'P' || (d[1] != '5' && d[1] != '6')) return std::nullopt;
  // stb_image's reader: one look-ahead character `c`; whitespace and '#' comments (to the end
  // of the line) before each number; digits while not at the end of the data.
  std::size_t i = 2;
  auto is_space = [](std::uint8_t c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  const char* names[] = {"width", "height", "maximum value"};
  for (const char* name : names) {
    for (;;) {
      while (i < d.size() && is_space(d[i]))
        ++i;
      if (i >= d.size() || d[i] != '#') break;
      while (i < d.size() && d[i] != '\n' && d[i] != '\r')
        ++i;
    }
    std::uint64_t value = 0;
    while (i < d.size() && d[i] >= '0' && d[i] <= '9') {
      value = value * 10 + static_cast<std::uint64_t>(d[i++] - '0');
      if (value > static_cast<std::uint64_t>(INT32_MAX)) {
        return std::string("PNM header ") + name + " too large (over " + std::to_string(INT32_MAX) +
               ")";
      }
    }
  }
  return std::nullopt;
}

std::optional<std::vector<std::uint8_t>> png_without_leading_empty_idat(
    std::span<const std::uint8_t> d) {
  if (!detail::is_png(d)) return std::nullopt;
  auto is = [&](std::size_t at, const char* type) { return std::equal(type, type + 4, &d[at]); };
  std::vector<std::size_t> drop;  // offsets of the empty IDAT chunks (each 12 bytes long)
  for (std::size_t i = 8; i + 12 <= d.size();) {
    const std::size_t len = detail::be32(&d[i]);
    if (is(i + 4, "IDAT")) {
      if (len != 0) break;  // from here on stb has its buffer
      drop.push_back(i);
    }
    if (is(i + 4, "IEND") || len > d.size() - i - 12) break;
    i += 12 + len;
  }
  if (drop.empty()) return std::nullopt;
  std::vector<std::uint8_t> out;
  out.reserve(d.size() - 12 * drop.size());
  std::size_t from = 0;
  for (const std::size_t at : drop) {
    out.insert(out.end(), d.begin() + static_cast<std::ptrdiff_t>(from),
               d.begin() + static_cast<std::ptrdiff_t>(at));
    from = at + 12;
  }
  out.insert(out.end(), d.begin() + static_cast<std::ptrdiff_t>(from), d.end());
  return out;
}

std::optional<std::string> stb_input_problem(std::span<const std::uint8_t> d) {
  if (auto problem = jpeg_huffman_problem(d)) return "corrupt JPEG: " + *problem;
  if (auto problem = pnm_header_problem(d)) return "corrupt PNM: " + *problem;
  return std::nullopt;
}

}  // namespace graybench
