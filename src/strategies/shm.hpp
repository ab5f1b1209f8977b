#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/posix.hpp"

namespace graybench {

/// A growable shared-memory buffer on a memfd, mapped MAP_SHARED: one side writes, the other
/// maps the same descriptor (inherited across posix_spawn) and reads.
class SharedBuffer {
 public:
  SharedBuffer() = default;
  /// Creates a new empty memfd.
  static SharedBuffer create(const char* name);
  /// Adopts an inherited descriptor.
  explicit SharedBuffer(Fd fd) : fd_(std::move(fd)) {}
  SharedBuffer(SharedBuffer&& o) noexcept;
  SharedBuffer& operator=(SharedBuffer&& o) noexcept;
  SharedBuffer(const SharedBuffer&) = delete;
  SharedBuffer& operator=(const SharedBuffer&) = delete;
  ~SharedBuffer();

  /// Writer: grows the file to at least `n` bytes if needed and copies `data` in at offset 0.
  void write(std::span<const std::uint8_t> data);
  /// Reader: the first `n` bytes (the writer has already grown the file to hold them).
  std::span<const std::uint8_t> read(std::size_t n);
  int fd() const { return fd_.get(); }

 private:
  void map(std::size_t n);
  void unmap() noexcept;
  Fd fd_;
  std::uint8_t* data_ = nullptr;
  std::size_t mapped_ = 0;
  std::size_t file_size_ = 0;
};

}  // namespace graybench
