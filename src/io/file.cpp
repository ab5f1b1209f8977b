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
    Fd fd = Fd::open(path, O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw_errno("fstat " + path.string());
    if (S_ISDIR(st.st_mode)) throw std::runtime_error(path.string() + ": is a directory");
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
