#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>

namespace graybench {

/// Throws std::system_error for errno with `what` as context.
[[noreturn]] void throw_errno(const std::string& what);

/// A move-only owned file descriptor (closed once, never retried on EINTR).
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  /// open(2) with EINTR retry; throws std::system_error naming the path.
  static Fd open(const std::filesystem::path& path, int flags, mode_t mode = 0);

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  /// Closes now and reports a close error (which may mean lost data) as an exception.
  void close();
  void reset() noexcept;

 private:
  int fd_ = -1;
};

/// Both ends of a pipe(2) with O_CLOEXEC.
struct Pipe {
  Fd read;
  Fd write;
  static Pipe create();
};

/// Absolute path of the running executable (/proc/self/exe).
std::string self_executable();

/// Reads until `n` bytes or end of file; retries EINTR. Returns the bytes read.
std::size_t read_fully(int fd, void* buf, std::size_t n);
/// Writes all `n` bytes; retries EINTR and short writes. Throws std::system_error.
void write_fully(int fd, const void* buf, std::size_t n);

}  // namespace graybench
