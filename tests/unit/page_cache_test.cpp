#include "io/page_cache.hpp"

#include <gtest/gtest.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "timing/metadata.hpp"

namespace graybench {
namespace {

namespace fs = std::filesystem;

class PageCache : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gb-page-cache-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, std::size_t bytes) {
    const auto p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << std::string(bytes, 'x');
    return p;
  }
  fs::path dir_;
};

TEST_F(PageCache, CountsEveryPageOfReadableFiles) {
  const long page = ::sysconf(_SC_PAGESIZE);
  const auto a = write("a", static_cast<std::size_t>(page) * 3 + 1);  // 4 pages
  const auto empty = write("empty", 0);
  const auto r = page_cache_residency({a, empty, (dir_ / "missing").string()});
  EXPECT_EQ(r.pages, 4u);
  EXPECT_LE(r.resident, r.pages);
  EXPECT_EQ(r.unchecked, 1u);  // the missing file
}

TEST_F(PageCache, EvictionDropsAFileJustWritten) {
  // Written moments ago, the pages are dirty; eviction syncs them first so they can go.
  const auto a = write("a", 1 << 20);
  struct statfs fs_info {};
  constexpr long kTmpfsMagic = 0x01021994;  // tmpfs pages are the file: nothing to evict
  if (::statfs(a.c_str(), &fs_info) == 0 && fs_info.f_type == kTmpfsMagic)
    GTEST_SKIP() << dir_ << " is on tmpfs";
  evict_from_page_cache({a, (dir_ / "missing").string()});
  const auto r = page_cache_residency({a});
  EXPECT_EQ(r.pages, static_cast<std::uint64_t>((1 << 20) / ::sysconf(_SC_PAGESIZE)));
  EXPECT_LT(r.resident, r.pages / 2) << "posix_fadvise(DONTNEED) had no visible effect";
}

TEST(Metadata, RandomUuidsAreVersion4AndDistinct) {
  const auto a = random_uuid(), b = random_uuid();
  EXPECT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '4');
  EXPECT_NE(a, b);
}

TEST(Metadata, NodeNameFromSlurmElseHost) {
  ::unsetenv("SLURMD_NODENAME");
  EXPECT_EQ(node_name(), hostname());
  ::setenv("SLURMD_NODENAME", "node7", 1);
  EXPECT_EQ(node_name(), "node7");
  ::unsetenv("SLURMD_NODENAME");
}

}  // namespace
}  // namespace graybench
