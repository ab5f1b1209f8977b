#include "io/page_cache.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace graybench {
namespace {

/// Read-only fd, closed on scope exit; -1 when the file cannot be opened.
class ReadFd {
 public:
  explicit ReadFd(const std::string& path)
      : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)) {}
  ~ReadFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  ReadFd(const ReadFd&) = delete;
  ReadFd& operator=(const ReadFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

void evict_from_page_cache(const std::vector<std::string>& paths) {
  for (const auto& path : paths) {
    ReadFd fd(path);
    if (fd.get() < 0) continue;
    // DONTNEED drops clean pages only: a file written moments ago (a freshly generated input
    // set) must reach the disk first.
    (void)::fdatasync(fd.get());
    (void)::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED);
  }
}

CacheResidency page_cache_residency(const std::vector<std::string>& paths) {
  CacheResidency r;
  const long page = ::sysconf(_SC_PAGESIZE);
  std::vector<unsigned char> vec;
  for (const auto& path : paths) {
    ReadFd fd(path);
    struct stat st {};
    if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      ++r.unchecked;
      continue;
    }
    if (st.st_size == 0) continue;
    const auto size = static_cast<std::size_t>(st.st_size);
    // Mapping reads nothing: mincore reports residency without faulting pages in.
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd.get(), 0);
    if (map == MAP_FAILED) {
      ++r.unchecked;
      continue;
    }
    const std::size_t n = (size + page - 1) / page;
    vec.assign(n, 0);
    if (::mincore(map, size, vec.data()) == 0) {
      r.pages += n;
      for (unsigned char v : vec)
        r.resident += v & 1;
    } else {
      ++r.unchecked;
    }
    ::munmap(map, size);
  }
  return r;
}

}  // namespace graybench
