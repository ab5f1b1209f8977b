#pragma once
// Page-cache control for cold-cache runs (--cache cold): drop files' pages, count what stays.

#include <cstdint>
#include <string>
#include <vector>

namespace graybench {

/// Pages of a set of files, and how many of them are in the page cache.
struct CacheResidency {
  std::uint64_t pages = 0;      ///< pages of the files that could be inspected
  std::uint64_t resident = 0;   ///< of which in the page cache (mincore)
  std::uint64_t unchecked = 0;  ///< files that could not be opened or mapped (not counted)
};

/// Asks the kernel to drop `paths` from the page cache (fdatasync, then posix_fadvise
/// POSIX_FADV_DONTNEED; no root needed). A file that cannot be opened is
/// skipped: the run itself reports it as a read error.
void evict_from_page_cache(const std::vector<std::string>& paths);

/// Counts the pages of `paths` in the page cache (mmap + mincore, without reading them).
CacheResidency page_cache_residency(const std::vector<std::string>& paths);

}  // namespace graybench
