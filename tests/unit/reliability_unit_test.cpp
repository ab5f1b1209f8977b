// The pieces behind issue 9's points 3, 4, 7 and 8: header probes, the memory budget, the
// regular-file check, the UTF-8 escape and the JPEG Huffman guard.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <map>
#include <thread>

#include "core/cancel.hpp"
#include "core/errors.hpp"
#include "core/utf8.hpp"
#include "io/codec.hpp"
#include "io/codec_internal.hpp"
#include "io/file.hpp"
#include "io/limits.hpp"
#include "io/stb_guard.hpp"
#include "mpi/comm.hpp"
#include "support/process.hpp"

namespace graybench {
namespace {

namespace fs = std::filesystem;

std::vector<std::uint8_t> bytes(const std::string& s) {
  return {s.begin(), s.end()};
}

std::vector<std::uint8_t> rgb(int w, int h) {
  std::vector<std::uint8_t> px(static_cast<std::size_t>(w) * h * 3);
  for (std::size_t i = 0; i < px.size(); ++i)
    px[i] = static_cast<std::uint8_t>(i * 13);
  return px;
}

TEST(ProbeDimensions, ReadsEveryFormatsHeader) {
  const auto png = encode_png(rgb(37, 21), 37, 21, 3);
  ASSERT_TRUE(probe_dimensions(png));
  EXPECT_EQ(probe_dimensions(png)->width, 37u);
  EXPECT_EQ(probe_dimensions(png)->height, 21u);
  const auto jpg = encode_jpeg(rgb(33, 19), 33, 19, 3, 90);
  ASSERT_TRUE(probe_dimensions(jpg));
  EXPECT_EQ(probe_dimensions(jpg)->pixels(), 33u * 19u);

  std::string gif = "GIF89a";
  gif += std::string("\x10\x00\x08\x00", 4);
  EXPECT_EQ(probe_dimensions(bytes(gif))->pixels(), 16u * 8u);
  std::string bmp = "BM" + std::string(12, '\0');
  bmp += std::string("\x28\0\0\0", 4) + std::string("\x05\0\0\0", 4) +
         std::string("\xfd\xff\xff\xff", 4);
  EXPECT_EQ(probe_dimensions(bytes(bmp))->pixels(), 15u);  // top-down: height -3
  std::string psd =
      "8BPS" + std::string(10, '\0') + std::string("\0\0\0\x07", 4) + std::string("\0\0\0\x09", 4);
  EXPECT_EQ(probe_dimensions(bytes(psd))->width, 9u);
  EXPECT_EQ(probe_dimensions(bytes("P6\n# comment\n 12 7\n255\n"))->pixels(), 84u);
  std::string tga(18, '\0');
  tga[2] = 2;
  tga[12] = 3;
  tga[14] = 4;
  EXPECT_EQ(probe_dimensions(bytes(tga))->pixels(), 12u);

  EXPECT_FALSE(probe_dimensions(bytes("")));
  EXPECT_FALSE(probe_dimensions(bytes("not an image at all")));
  // Cut inside IHDR: the missing height reads as 0, as stb_image reads it.
  EXPECT_EQ(probe_dimensions(std::span(png).first(20))->pixels(), 0u);
  // A 17-byte TGA (found by fuzz_decode_auto): stb decodes 8272 x 37124 pixels of zeros from
  // it, so the probe must see the same size, or the pixel limit is bypassed.
  const auto short_tga =
      bytes(std::string("\0\0\2 \0\x18"
                        "ee\0\0`#P \x04\x91\x10",
                        17));
  ASSERT_TRUE(probe_dimensions(short_tga));
  EXPECT_EQ(probe_dimensions(short_tga)->width, 8272u);
  EXPECT_EQ(probe_dimensions(short_tga)->height, 37124u);
  EXPECT_THROW(check_pixel_limit(short_tga, kDefaultMaxPixels), ImageError);
  // Stray bytes between JPEG segments: stb and libjpeg skip them to the next marker, so the
  // probe must too (CI's fuzz_decode_stb: a 1 Gpix frame behind them got past the limit).
  const auto stray =
      bytes(std::string("\xff\xd8\xff\xe0\x00\x04"
                        "AB\x11\x22\xff\xc0\x00\x0b\x08\x80\x00\x80\x00\x01"
                        "\x01\x11\x00\xff\xd9",
                        25));
  ASSERT_TRUE(probe_dimensions(stray));
  EXPECT_EQ(probe_dimensions(stray)->pixels(), 32768u * 32768u);
  // PNM numbers with leading zeros: every digit belongs to the width, as stb reads it.
  const auto zeros = probe_dimensions(bytes("P5\n000000000000032768 32768\n255\n"));
  ASSERT_TRUE(zeros);
  EXPECT_EQ(zeros->width, 32768u);
  EXPECT_EQ(zeros->height, 32768u);
  EXPECT_EQ(probe_dimensions(bytes("P5 99999999999999 1 255\n"))->width, UINT32_MAX);
}

TEST(ProbeDimensions, EveryDecoderChecksTheLimitOnItsOwnReadingOfTheHeader) {
  // graybench's probe is the first check; each decoder checks again on the header as it reads
  // it, so a header the probe misreads cannot carry a decompression bomb past --max-pixels.
  const auto jpg = encode_jpeg(rgb(33, 19), 33, 19, 3, 90);
  const auto png = encode_png(rgb(33, 19), 33, 19, 3);
  const std::string refused = "exceeds --max-pixels (33 x 19 > 626)";
  auto expect_refused = [&](auto&& decode) {
    try {
      decode(33 * 19 - 1);
      ADD_FAILURE() << "no throw";
    } catch (const ImageError& e) {
      EXPECT_EQ(e.status(), ImageStatus::kDecodeError);
      EXPECT_EQ(e.what(), refused);
    }
    EXPECT_NO_THROW(decode(33 * 19));
  };
  Image out;
  expect_refused([&](std::uint64_t limit) { detail::decode_jpeg(jpg, out, limit); });
  expect_refused([&](std::uint64_t limit) { detail::decode_stb(jpg, out, limit); });
  expect_refused([&](std::uint64_t limit) { detail::decode_stb(png, out, limit); });
  expect_refused([&](std::uint64_t limit) { detail::decode_png(png, out, limit); });
  expect_refused([&](std::uint64_t limit) { detail::decode_png_spng(png, out, limit); });
  for (const Decoder decoder : {Decoder::kAuto, Decoder::kStb}) {
    expect_refused([&](std::uint64_t limit) { decode_image(jpg, out, decoder, limit); });
    expect_refused([&](std::uint64_t limit) { decode_image(png, out, decoder, limit); });
  }
}

TEST(ProbeDimensions, PixelLimitRefusesBeforeDecoding) {
  const auto png = encode_png(rgb(40, 30), 40, 30, 3);
  EXPECT_NO_THROW(check_pixel_limit(png, 1200));
  try {
    check_pixel_limit(png, 1199);
    FAIL() << "no throw";
  } catch (const ImageError& e) {
    EXPECT_EQ(e.status(), ImageStatus::kDecodeError);
    EXPECT_STREQ(e.what(), "exceeds --max-pixels (40 x 30 > 1199)");
  }
}

TEST(MemoryBudget, SerialisesWhatDoesNotFitAndRunsAnOversizedImageAlone) {
  MemoryBudget budget(100);
  {
    auto a = budget.acquire(60);
    EXPECT_FALSE(budget.try_acquire(60));  // 120 > 100 while a is held
    auto b = budget.try_acquire(40);
    EXPECT_TRUE(b);
  }
  auto huge = budget.try_acquire(1000);  // nothing held: runs alone rather than never
  EXPECT_TRUE(huge);
  std::atomic<bool> got{false};
  std::thread t([&] {
    auto lease = budget.acquire(10);
    got = true;
  });
  while (budget.waits() == 0)
    std::this_thread::yield();
  EXPECT_FALSE(got);
  huge.reset();  // gives the budget back: the waiter goes on
  t.join();
  EXPECT_TRUE(got);
  EXPECT_EQ(budget.waits(), 1u);
}

TEST(MemoryBudget, AWaiterSeesAStopRequest) {
  MemoryBudget budget(10);
  auto held = budget.acquire(10);
  request_stop();
  EXPECT_THROW(budget.acquire(10), StopRequested);
  clear_stop();
}

TEST(MemoryBudget, DefaultComesFromTheMachineOrTheEnvironment) {
  EXPECT_GE(default_memory_budget(), std::uint64_t{64} << 20);
}

TEST(ReadFile, RefusesAFifoOrDirectoryWithoutBlocking) {
  test::TempDir d;
  ASSERT_EQ(::mkfifo((d / "pipe.png").c_str(), 0644), 0);
  try {
    read_file(d / "pipe.png");
    FAIL() << "no throw";
  } catch (const ImageError& e) {
    EXPECT_EQ(e.status(), ImageStatus::kReadError);
    EXPECT_NE(std::string(e.what()).find("is a FIFO, not a regular file"), std::string::npos);
  }
  fs::create_directory(d / "dir.png");
  EXPECT_THROW(read_file(d / "dir.png"), ImageError);
  EXPECT_FALSE(probe_file_dimensions(d / "pipe.png"));
  EXPECT_THROW(read_file("/dev/null"), ImageError);  // a character device
}

TEST(Utf8, EscapeIsReversibleAndAlwaysValid) {
  const std::vector<std::string> cases = {"plain",
                                          "caf\xc3\xa9",
                                          "caf\xe9",
                                          "back\\slash",
                                          "\\x41 literal",
                                          std::string("nul\0byte", 8),
                                          "\xed\xa0\x80 surrogate",
                                          "\xf4\x90\x80\x80 too big",
                                          "\xc0\xaf overlong",
                                          "cut \xe2\x82"};
  for (const auto& s : cases) {
    const std::string e = escape_utf8(s);
    EXPECT_TRUE(is_valid_utf8(e)) << e;
    EXPECT_EQ(unescape_utf8(e), s) << e;
  }
  EXPECT_EQ(escape_utf8("caf\xe9.png"), "caf\\xe9.png");
  EXPECT_EQ(escape_utf8("a\\b"), "a\\\\b");
  EXPECT_EQ(escape_utf8("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_FALSE(is_valid_utf8("caf\xe9"));
  EXPECT_EQ(without_controls("PLT\xe5\x1b[2J"), "PLT\xe5?[2J");
}

/// A baseline JPEG whose first Huffman table declares `extra` more codes of length 16.
std::vector<std::uint8_t> jpeg_with_bad_dht(int extra) {
  auto jpg = encode_jpeg(rgb(16, 16), 16, 16, 3, 90);
  for (std::size_t i = 2; i + 4 < jpg.size();) {
    const std::size_t len = std::size_t{jpg[i + 2]} << 8 | jpg[i + 3];
    if (jpg[i + 1] == 0xC4) {
      jpg[i + 4 + 16] = static_cast<std::uint8_t>(std::min(255, jpg[i + 4 + 16] + extra));
      return jpg;
    }
    i += 2 + len;
  }
  throw std::runtime_error("no DHT");
}

TEST(JpegGuard, RefusesHuffmanTablesStbWouldOverflow) {
  EXPECT_FALSE(jpeg_huffman_problem(encode_jpeg(rgb(16, 16), 16, 16, 3, 90)));
  // 255 more codes: over 256 in all, the table stb_image 2.27 writes past (issues 1289/1291).
  const auto bad = jpeg_with_bad_dht(255);
  const auto problem = jpeg_huffman_problem(bad);
  ASSERT_TRUE(problem);
  try {
    decode_image(bad, Decoder::kStb);  // the guard stands in front of stb
    FAIL() << "decoded";
  } catch (const ImageError& e) {
    EXPECT_EQ(e.status(), ImageStatus::kDecodeError);
    EXPECT_NE(std::string(e.what()).find("corrupt JPEG: "), std::string::npos) << e.what();
  }
  // libjpeg-turbo (--decoder auto) refuses the table itself.
  try {
    decode_image(bad, Decoder::kAuto);
    FAIL() << "decoded";
  } catch (const ImageError& e) {
    EXPECT_EQ(e.status(), ImageStatus::kDecodeError);
    EXPECT_GT(std::string(e.what()).size(), std::string("decode failed: ").size());
  }
}

/// A baseline JPEG whose scan header points its first component at DC table `dc`.
std::vector<std::uint8_t> jpeg_with_scan_table(int dc) {
  auto jpg = encode_jpeg(rgb(16, 16), 16, 16, 3, 90);
  for (std::size_t i = 2; i + 4 < jpg.size();) {
    const std::size_t len = std::size_t{jpg[i + 2]} << 8 | jpg[i + 3];
    if (jpg[i + 1] == 0xDA) {
      jpg[i + 6] = static_cast<std::uint8_t>((dc << 4) | (jpg[i + 6] & 15));
      return jpg;
    }
    i += 2 + len;
  }
  throw std::runtime_error("no SOS");
}

TEST(StbGuard, RefusesScansThroughUndefinedHuffmanTables) {
  // stb_image's tables are uninitialised until a DHT defines them; a scan that decodes with
  // an undefined one indexes out of bounds (fuzz_decode_stb, index -16776553).
  EXPECT_FALSE(jpeg_huffman_problem(jpeg_with_scan_table(0)));
  EXPECT_EQ(decode_image(jpeg_with_scan_table(0), Decoder::kStb).pixel_count(), 256u);
  const auto bad = jpeg_with_scan_table(3);
  const auto problem = jpeg_huffman_problem(bad);
  ASSERT_TRUE(problem);
  EXPECT_EQ(*problem, "scan uses DC Huffman table 3, never defined");
  try {
    decode_image(bad, Decoder::kStb);
    FAIL() << "decoded";
  } catch (const ImageError& e) {
    EXPECT_NE(std::string(e.what()).find("never defined"), std::string::npos) << e.what();
  }
}

TEST(StbGuard, EmptyIdatBeforeTheDataIsDroppedAndTheImageUnchanged) {
  const auto png = encode_png(rgb(7, 5), 7, 5, 3);
  EXPECT_FALSE(png_without_leading_empty_idat(png));
  // An empty IDAT chunk (length 0, type, CRC) right before the first one: legal PNG.
  std::vector<std::uint8_t> with_empty = png;
  std::size_t idat = 8;
  while (!std::equal(png.begin() + static_cast<std::ptrdiff_t>(idat + 4),
                     png.begin() + static_cast<std::ptrdiff_t>(idat + 8), "IDAT")) {
    idat += 12 + (std::size_t{png[idat + 2]} << 8 | png[idat + 3]);
  }
  const std::uint8_t empty[12] = {0, 0, 0, 0, 'I', 'D', 'A', 'T', 0x35, 0xAF, 0x06, 0x1E};
  with_empty.insert(with_empty.begin() + static_cast<std::ptrdiff_t>(idat), empty, empty + 12);
  const auto dropped = png_without_leading_empty_idat(with_empty);
  ASSERT_TRUE(dropped);
  EXPECT_EQ(*dropped, png);
  for (const Decoder decoder : {Decoder::kStb, Decoder::kAuto}) {
    EXPECT_EQ(decode_image(with_empty, decoder).pixels, decode_image(png, decoder).pixels);
  }
}

TEST(Launcher, StartedByLauncherReadsTheEnvironment) {
  // The singleton-only MPI settings (ob1 PML, no orted) hinge on this answer.
  const char* vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "PMI_FD"};
  std::map<std::string, std::string> saved;
  for (const char* v : vars) {
    if (const char* value = std::getenv(v)) saved[v] = value;
    ::unsetenv(v);
  }
  EXPECT_FALSE(mpi::started_by_launcher());
  for (const char* v : vars) {
    ::setenv(v, "0", 1);
    EXPECT_TRUE(mpi::started_by_launcher()) << v;
    ::unsetenv(v);
  }
  for (const auto& [k, v] : saved)
    ::setenv(k.c_str(), v.c_str(), 1);
}

TEST(StbGuard, RefusesPnmHeaderNumbersStbWouldOverflow) {
  // A valid 2x1 PGM decodes; stb keeps each header number in an int without a bound.
  const std::string ok = "P5\n# comment 99999999999\n2 1\n255\nab";
  EXPECT_FALSE(pnm_header_problem(bytes(ok)));
  EXPECT_EQ(decode_image(bytes(ok), Decoder::kStb).pixel_count(), 2u);
  EXPECT_FALSE(pnm_header_problem(bytes("P6 2147483647 1 255 ")));
  for (const std::string bad : {"P5 2147483648 1 255 x", "P6\t1\r99999999999 255 x",
                                "P5 1 1 #c\n 000000000003000000000 x"}) {
    const auto problem = pnm_header_problem(bytes(bad));
    ASSERT_TRUE(problem) << bad;
    try {
      decode_image(bytes(bad), Decoder::kStb);
      FAIL() << "decoded " << bad;
    } catch (const ImageError& e) {
      EXPECT_NE(std::string(e.what()).find("corrupt PNM: PNM header "), std::string::npos)
          << e.what();
    }
  }
  EXPECT_FALSE(pnm_header_problem(bytes("P3 99999999999 1 255")));  // stb reads P5/P6 only
}

TEST(JpegGuard, FuzzerFindingsDecodeCleanly) {
  // Every input the fuzzer ever crashed on (tests/fuzz/regressions) must now be refused or
  // decoded without a sanitizer report: the ASan/UBSan CI stage runs this.
  const fs::path dir = fs::path(GRAYBENCH_SOURCE_DIR) / "tests" / "fuzz" / "regressions";
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().extension() == ".md") continue;
    ++n;
    const auto data = read_file(e.path());
    for (const Decoder decoder : {Decoder::kAuto, Decoder::kStb}) {
      try {
        // The fuzz targets' limit.
        const Image img = decode_image(data, decoder, std::uint64_t{1} << 16);
        EXPECT_GT(img.pixel_count(), 0u);
        EXPECT_LE(img.pixel_count(), std::uint64_t{1} << 16);
      } catch (const ImageError& err) {
        EXPECT_GT(std::string(err.what()).size(), std::string("decode failed: ").size());
      }
    }
  }
  EXPECT_GT(n, 0);
}

TEST(DecodeErrors, EveryReasonIsPrintableAndNamesTheCause) {
  std::vector<std::vector<std::uint8_t>> bad = {bytes("x"), bytes("GIF89a"), bytes("BM"),
                                                bytes("\x89PNG\r\n\x1a\n")};
  auto png = encode_png(rgb(4, 4), 4, 4, 3);
  png.resize(png.size() - 20);
  bad.push_back(png);
  for (const auto& b : bad) {
    try {
      decode_image(b);
    } catch (const ImageError& e) {
      const std::string what = e.what();
      EXPECT_GT(what.size(), std::string("decode failed: ").size()) << what;
      EXPECT_EQ(what.find('\x1b'), std::string::npos) << what;
    }
  }
}

}  // namespace
}  // namespace graybench
