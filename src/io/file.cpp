#include "io/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

#include "core/errors.hpp"
#include "core/posix.hpp"

namespace graybench {

namespace fs = std::filesystem;

std::vector<std::uint8_t> read_file(const fs::path& path) {
  std::vector<std::uint8_t> data;
  read_file(path, data);
  return data;
}

void read_file(const fs::path& path, std::vector<std::uint8_t>& data) {
  try {
    // Non-blocking, then checked on the open descriptor: a FIFO or device swapped in after
    // listing is refused instead of blocking a worker forever (and nothing can swap it again
    // between the check and the read).
    Fd fd = Fd::open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw_errno("fstat " + path.string());
    if (!S_ISREG(st.st_mode)) {
      const char* kind = S_ISDIR(st.st_mode)    ? "a directory"
                         : S_ISFIFO(st.st_mode) ? "a FIFO"
                         : S_ISCHR(st.st_mode)  ? "a character device"
                         : S_ISBLK(st.st_mode)  ? "a block device"
                         : S_ISSOCK(st.st_mode) ? "a socket"
                                                : "of an unknown kind";
      throw std::runtime_error(path.string() + ": is " + kind + ", not a regular file");
    }
    data.resize(static_cast<std::size_t>(st.st_size));
    const std::size_t got = read_fully(fd.get(), data.data(), data.size());
    data.resize(got);
  } catch (const std::exception& e) {
    throw ImageError(ImageStatus::kReadError, std::string("read failed: ") + e.what());
  }
}

void write_file_atomically(const fs::path& path, std::span<const std::uint8_t> bytes) {
  static std::atomic<unsigned> counter{0};
  const fs::path tmp = path.string() + ".tmp." + std::to_string(::getpid()) + "." +
                       std::to_string(counter.fetch_add(1));
  try {
    if (path.has_parent_path()) fs::create_directories(path.parent_path());
    {
      Fd fd = Fd::open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      write_fully(fd.get(), bytes.data(), bytes.size());
      fd.close();
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) throw_errno("rename to " + path.string());
  } catch (const std::exception& e) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw ImageError(ImageStatus::kWriteError, std::string("write failed: ") + e.what());
  }
}

}  // namespace graybench
