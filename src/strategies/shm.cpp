#include "strategies/shm.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace graybench {

SharedBuffer SharedBuffer::create(const char* name) {
  const int fd = ::memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) throw_errno("memfd_create");
  return SharedBuffer(Fd(fd));
}

SharedBuffer::SharedBuffer(SharedBuffer&& o) noexcept
    : fd_(std::move(o.fd_)),
      data_(std::exchange(o.data_, nullptr)),
      mapped_(std::exchange(o.mapped_, 0)),
      file_size_(std::exchange(o.file_size_, 0)) {}

SharedBuffer& SharedBuffer::operator=(SharedBuffer&& o) noexcept {
  if (this != &o) {
    unmap();
    fd_ = std::move(o.fd_);
    data_ = std::exchange(o.data_, nullptr);
    mapped_ = std::exchange(o.mapped_, 0);
    file_size_ = std::exchange(o.file_size_, 0);
  }
  return *this;
}

SharedBuffer::~SharedBuffer() {
  unmap();
}

void SharedBuffer::unmap() noexcept {
  if (data_) ::munmap(data_, mapped_);
  data_ = nullptr;
  mapped_ = 0;
}

void SharedBuffer::map(std::size_t n) {
  if (n <= mapped_) return;
  unmap();
  void* p = ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(), 0);
  if (p == MAP_FAILED) throw_errno("mmap shared buffer");
  data_ = static_cast<std::uint8_t*>(p);
  mapped_ = n;
}

void SharedBuffer::write(std::span<const std::uint8_t> data) {
  if (data.empty()) return;
  if (data.size() > file_size_) {
    // Grow geometrically so a stream of slightly larger images does not remap every time.
    const std::size_t size = std::max(data.size(), file_size_ * 2);
    if (::ftruncate(fd_.get(), static_cast<off_t>(size)) != 0)
      throw_errno("ftruncate shared buffer");
    file_size_ = size;
  }
  map(data.size() > mapped_ ? file_size_ : mapped_);
  std::memcpy(data_, data.data(), data.size());
}

std::span<const std::uint8_t> SharedBuffer::read(std::size_t n) {
  if (n == 0) return {};
  if (n > mapped_) {
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) throw_errno("fstat shared buffer");
    if (static_cast<std::size_t>(st.st_size) < n)
      throw std::runtime_error("shared buffer too small");
    map(static_cast<std::size_t>(st.st_size));
  }
  return {data_, n};
}

}  // namespace graybench
