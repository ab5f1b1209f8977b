#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace graybench {

/// std::allocator, except that value-initialisation (what vector::resize(n) does to new
/// elements) leaves trivial types uninitialised instead of zeroing them.
template <class T>
struct DefaultInitAllocator : std::allocator<T> {
  using value_type = T;
  template <class U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() noexcept = default;
  template <class U>
  DefaultInitAllocator(const DefaultInitAllocator<U>& /*other*/) noexcept {}

  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;  // default-, not value-initialised
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

/// A byte buffer whose resize() does not zero what it adds: decoded pixels, gray output and
/// encoded PNGs are written in full right after they are sized, and zeroing them first cost
/// 12 % of a sequential run on photographs (memset of tens of MB per image; perf, issue 8).
using Bytes = std::vector<std::uint8_t, DefaultInitAllocator<std::uint8_t>>;

/// The same bytes as a plain vector (found by argument-dependent lookup; != and the reversed
/// order follow in C++20).
inline bool operator==(const Bytes& a, const std::vector<std::uint8_t>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

}  // namespace graybench
