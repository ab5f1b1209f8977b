#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

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

/// This process's open descriptors, ascending (from /proc/self/fd; the descriptor used to list
/// them is left out). Throws std::system_error.
std::vector<int> open_fds();

/// Marks every open descriptor >= `from` close-on-exec: close_range(CLOSE_RANGE_CLOEXEC) where
/// the kernel has it (Linux >= 5.11), else one fcntl per entry of /proc/self/fd. For spawning
/// children without posix_spawn_file_actions_addclosefrom_np (glibc < 2.34): descriptors other
/// libraries opened without O_CLOEXEC (MPI's sockets) then never reach the child. A descriptor
/// another thread opens without O_CLOEXEC after this call is not covered.
void mark_cloexec_from(int from);

/// Absolute path of the running executable (/proc/self/exe).
std::string self_executable();

/// Reads until `n` bytes or end of file; retries EINTR. Returns the bytes read.
std::size_t read_fully(int fd, void* buf, std::size_t n);
/// Writes all `n` bytes; retries EINTR and short writes. Throws std::system_error.
void write_fully(int fd, const void* buf, std::size_t n);

}  // namespace graybench
