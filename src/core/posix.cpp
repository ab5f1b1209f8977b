#include "core/posix.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>
#if __has_include(<linux/close_range.h>)
#include <linux/close_range.h>
#endif

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <string_view>
#include <system_error>

namespace graybench {

void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

Fd Fd::open(const std::filesystem::path& path, int flags, mode_t mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) throw_errno("open " + path.string());
  return Fd(fd);
}

void Fd::close() {
  if (fd_ < 0) return;
  const int fd = std::exchange(fd_, -1);
  // Never retry close on EINTR: the descriptor is gone either way on Linux.
  if (::close(fd) != 0 && errno != EINTR) throw_errno("close");
}

void Fd::reset() noexcept {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

Pipe Pipe::create() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno("pipe2");
  return Pipe{Fd(fds[0]), Fd(fds[1])};
}

std::vector<int> open_fds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) throw_errno("opendir /proc/self/fd");
  const int own = ::dirfd(dir);
  std::vector<int> fds;
  errno = 0;
  while (const dirent* e = ::readdir(dir)) {
    int fd = -1;
    const std::string_view name(e->d_name);
    const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), fd);
    if (ec == std::errc() && end == name.data() + name.size() && fd != own) fds.push_back(fd);
  }
  const int read_errno = errno;
  ::closedir(dir);
  if (read_errno != 0) {
    errno = read_errno;
    throw_errno("readdir /proc/self/fd");
  }
  std::sort(fds.begin(), fds.end());
  return fds;
}

void mark_cloexec_from(int from) {
#if defined(SYS_close_range) && defined(CLOSE_RANGE_CLOEXEC)
  if (::syscall(SYS_close_range, static_cast<unsigned>(from), ~0U, CLOSE_RANGE_CLOEXEC) == 0)
    return;
    // ENOSYS (kernel < 5.11) or EINVAL (flag unknown, < 5.11): fall through to the listing.
#endif
  for (const int fd : open_fds()) {
    if (fd < from) continue;
    const int flags = ::fcntl(fd, F_GETFD);
    if (flags < 0) {
      if (errno == EBADF) continue;  // closed meanwhile by another thread
      throw_errno("fcntl(F_GETFD) on descriptor " + std::to_string(fd));
    }
    if ((flags & FD_CLOEXEC) == 0 && ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC) != 0 &&
        errno != EBADF) {
      throw_errno("fcntl(F_SETFD, FD_CLOEXEC) on descriptor " + std::to_string(fd));
    }
  }
}

std::string self_executable() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::system_error(ec, "readlink /proc/self/exe");
  return p.string();
}

std::size_t read_fully(int fd, void* buf, std::size_t n) {
  auto* p = static_cast<char*>(buf);
  std::size_t done = 0;
  while (done < n) {
    const ssize_t r = ::read(fd, p + done, n - done);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw_errno("read");
    }
    if (r == 0) break;
    done += static_cast<std::size_t>(r);
  }
  return done;
}

void write_fully(int fd, const void* buf, std::size_t n) {
  const auto* p = static_cast<const char*>(buf);
  std::size_t done = 0;
  while (done < n) {
    const ssize_t w = ::write(fd, p + done, n - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw_errno("write");
    }
    done += static_cast<std::size_t>(w);
  }
}

}  // namespace graybench
