// The grayscale kernel, compiled once per SIMD target by Highway's foreach_target.h and
// dispatched at run time, so one binary runs the best code on old and new nodes alike.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernel/grayscale.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
// foreach_target.h must precede highway.h.
#include <hwy/highway.h>

#include <cstring>

#include "kernel/grayscale.hpp"

HWY_BEFORE_NAMESPACE();
namespace graybench {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Pillow's L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16, one pixel per 32-bit lane, from
// pixels packed as R | G << 8 | B << 16 | X << 24 (X: alpha, or anything; it is ignored).
// Pairwise products of 16-bit halves summed into 32 bits (x86's pmaddwd) give it exactly:
//   (R, B) . (19595, 7471)  +  (2G, 2X) . (19235, 0)  =  19595 R + 38470 G + 7471 B
// 38470 does not fit a signed 16-bit coefficient, but 2G <= 510 fits a 16-bit sample. Every
// partial sum stays below 2^24, so the result is bit-exact with Pillow.
template <class D32>
HWY_INLINE hn::Vec<hn::Rebind<uint8_t, D32>> LumaPacked(D32 du32, hn::Vec<D32> px) {
  const hn::Repartition<int32_t, D32> di32;
  const hn::Repartition<int16_t, D32> di16;
  const hn::Repartition<uint16_t, D32> du16;
  const auto x = hn::BitCast(du16, px);
  const auto rb = hn::BitCast(di16, hn::And(x, hn::Set(du16, 0x00FF)));
  const auto g2 = hn::BitCast(di16, hn::ShiftLeft<1>(hn::ShiftRight<8>(x)));
  // Little-endian halves: the low one multiplies R (2G), the high one B (2X).
  const auto c_rb = hn::BitCast(di16, hn::Set(du32, (7471u << 16) | 19595u));
  const auto c_g = hn::BitCast(di16, hn::Set(du32, 19235u));
  auto sum1 = hn::Zero(di32);
  auto sum0 = hn::ReorderWidenMulAccumulate(di32, rb, c_rb, hn::Zero(di32), sum1);
  sum0 = hn::ReorderWidenMulAccumulate(di32, g2, c_g, sum0, sum1);
  const auto luma = hn::Add(hn::RearrangeToOddPlusEven(sum0, sum1), hn::Set(di32, 0x8000));
  return hn::U8FromU32(hn::ShiftRight<16>(hn::BitCast(du32, luma)));
}

// Lanes(du32) RGB pixels from `src` (which must hold a whole vector: 4 bytes per lane), packed
// one per 32-bit lane as LumaPacked wants them.
template <class D32>
HWY_INLINE hn::Vec<D32> LoadRgbPacked(D32 du32, const uint8_t* HWY_RESTRICT src) {
  const hn::Repartition<uint8_t, D32> d8;
  // 16-byte block k takes the 32-bit words 3k..3k+3, bytes 12k..12k+15: its four pixels...
  const auto iota = hn::Iota(du32, 0);
  const auto words =
      hn::TableLookupLanes(hn::LoadU(du32, reinterpret_cast<const uint32_t*>(src)),
                           hn::IndicesFromVec(du32, hn::Sub(iota, hn::ShiftRight<2>(iota))));
  // ...and each pixel's three bytes move to a lane of their own.
  alignas(16) static constexpr uint8_t kSpread[16] = {0, 1, 2, 2, 3, 4,  5,  5,
                                                      6, 7, 8, 8, 9, 10, 11, 11};
  return hn::BitCast(du32,
                     hn::TableLookupBytes(hn::BitCast(d8, words), hn::LoadDup128(d8, kSpread)));
}

// Lanes(du32) pixels from `src` (a whole vector readable: 4 bytes per lane) to gray at `out`.
template <int Channels, class D32>
HWY_INLINE void ConvertPacked(D32 du32, const uint8_t* HWY_RESTRICT src,
                              uint8_t* HWY_RESTRICT out) {
  const hn::Rebind<uint8_t, D32> dq;
  const auto px = Channels == 3 ? LoadRgbPacked(du32, src)
                                : hn::LoadU(du32, reinterpret_cast<const uint32_t*>(src));
  hn::StoreU(LumaPacked(du32, px), dq, out);
}

template <int Channels>
HWY_INLINE void ConvertPixels(const uint8_t* HWY_RESTRICT src, uint8_t* HWY_RESTRICT out,
                              size_t n) {
#if HWY_TARGET == HWY_SCALAR
  // One-lane vectors cannot pair bytes into 16-bit lanes; the scalar fallback is Pillow's own
  // expression (never chosen on x86-64, whose baseline already has EMU128 or better).
  for (size_t i = 0; i < n; ++i, src += Channels)
    out[i] = Channels == 2 ? src[0] : luma(src[0], src[1], src[2]);
#else
  size_t i = 0;
  if constexpr (Channels == 2) {
    const hn::ScalableTag<uint8_t> d8;
    const size_t lanes = hn::Lanes(d8);
    for (; i + lanes <= n; i += lanes) {
      hn::Vec<decltype(d8)> l, a;
      hn::LoadInterleaved2(d8, src + 2 * i, l, a);
      hn::StoreU(l, d8, out + i);
    }
    for (; i < n; ++i)
      out[i] = src[2 * i];
  } else {
    const hn::ScalableTag<uint32_t> du32;
    const size_t lanes = hn::Lanes(du32);
    // Each step converts `lanes` pixels and reads a whole vector (RGB: a third more than its
    // pixels), so it runs while that much lies inside the input.
    for (; Channels * i + 4 * lanes <= Channels * n; i += lanes)
      ConvertPacked<Channels>(du32, src + Channels * i, out + i);
    // The tail runs through the same vector code on zero-padded copies, so every pixel of
    // every length takes one computation path.
    HWY_ALIGN uint8_t in_buf[HWY_MAX_BYTES];
    HWY_ALIGN uint8_t out_buf[HWY_MAX_BYTES];
    while (i < n) {
      const size_t m = HWY_MIN(lanes, n - i);
      std::memset(in_buf, 0, sizeof in_buf);
      std::memcpy(in_buf, src + Channels * i, Channels * m);
      ConvertPacked<Channels>(du32, in_buf, out_buf);
      std::memcpy(out + i, out_buf, m);
      i += m;
    }
  }
#endif
}

void ToGray(const uint8_t* HWY_RESTRICT src, int channels, uint8_t* HWY_RESTRICT out, size_t n) {
  switch (channels) {
    case 2:
      return ConvertPixels<2>(src, out, n);
    case 3:
      return ConvertPixels<3>(src, out, n);
    case 4:
      return ConvertPixels<4>(src, out, n);
    default:
      std::memcpy(out, src, n);
      return;
  }
}

const char* TargetName() {
  return hwy::TargetName(HWY_TARGET);
}

}  // namespace HWY_NAMESPACE
}  // namespace graybench
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <stdexcept>
#include <string>

namespace graybench {

HWY_EXPORT(ToGray);
HWY_EXPORT(TargetName);

void to_gray(std::span<const std::uint8_t> src, int channels, std::span<std::uint8_t> out) {
  if (channels < 1 || channels > 4) {
    throw std::invalid_argument("to_gray: unsupported channel count " + std::to_string(channels));
  }
  const std::size_t n = out.size();
  if (src.size() != n * static_cast<std::size_t>(channels)) {
    throw std::invalid_argument("to_gray: input has " + std::to_string(src.size()) +
                                " bytes, expected " + std::to_string(n) + " x " +
                                std::to_string(channels));
  }
  if (n == 0) return;
  HWY_DYNAMIC_DISPATCH(ToGray)(src.data(), channels, out.data(), n);
}

std::string simd_target() {
  return HWY_DYNAMIC_DISPATCH(TargetName)();
}

std::vector<std::string> simd_targets_available() {
  std::vector<std::string> names;
  // Lower bits are better targets; HWY_TARGETS is this translation unit's compiled set.
  for (std::int64_t t : hwy::SupportedAndGeneratedTargets())
    names.emplace_back(hwy::TargetName(t));
  return names;
}

void force_simd_target(const std::string& name) {
  // Lift any earlier restriction first, so the lookup sees every target this CPU supports.
  hwy::SetSupportedTargetsForTest(0);
  if (name.empty()) return;
  for (std::int64_t t : hwy::SupportedAndGeneratedTargets()) {
    if (name == hwy::TargetName(t)) {
      hwy::SetSupportedTargetsForTest(t);
      return;
    }
  }
  throw std::invalid_argument("force_simd_target: SIMD target '" + name +
                              "' is not available on this CPU");
}

}  // namespace graybench
#endif  // HWY_ONCE
