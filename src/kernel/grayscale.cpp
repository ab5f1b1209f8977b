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

// Pillow's L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16 needs 24-bit sums. Splitting each
// coefficient as c = 256 * hi + lo keeps every partial sum inside 16-bit lanes:
//   S = 256 * H + P + 128 * 256,  H = 76 R + 150 G + 29 B <= 65025,  P = 139 R + 70 G + 47 B <=
//   65280
// so S >> 16 = (H + (P >> 8) + 128) >> 8 exactly (floor(floor(x / a) / b) = floor(x / ab)), and
// H + 255 + 128 < 65536 never wraps. This returns that sum before the final shift by 8.
template <class D16, class V16 = hn::Vec<D16>>
HWY_INLINE V16 LumaTimes256(D16 d16, V16 r, V16 g, V16 b) {
  const V16 h = hn::Add(hn::Add(hn::Mul(r, hn::Set(d16, 76)), hn::Mul(g, hn::Set(d16, 150))),
                        hn::Mul(b, hn::Set(d16, 29)));
  const V16 p = hn::Add(hn::Add(hn::Mul(r, hn::Set(d16, 139)), hn::Mul(g, hn::Set(d16, 70))),
                        hn::Mul(b, hn::Set(d16, 47)));
  return hn::Add(hn::Add(h, hn::ShiftRight<8>(p)), hn::Set(d16, 128));
}

// Luma of a full vector of pixels given as planar R, G, B bytes. Each 16-bit lane holds two
// pixels (even in the low byte, odd in the high byte); both halves are computed in place, so
// no lane crosses a 128-bit block and the output byte order is the input's.
template <class D8, class V8 = hn::Vec<D8>>
HWY_INLINE V8 Luma(D8 d8, V8 r, V8 g, V8 b) {
  const hn::Repartition<uint16_t, D8> d16;
  const auto low = hn::Set(d16, 0x00FF);
  const auto r16 = hn::BitCast(d16, r);
  const auto g16 = hn::BitCast(d16, g);
  const auto b16 = hn::BitCast(d16, b);
  const auto even =
      hn::ShiftRight<8>(LumaTimes256(d16, hn::And(r16, low), hn::And(g16, low), hn::And(b16, low)));
  const auto odd =
      LumaTimes256(d16, hn::ShiftRight<8>(r16), hn::ShiftRight<8>(g16), hn::ShiftRight<8>(b16));
  // The odd result times 256 already sits in the high byte; drop its fraction bits.
  return hn::BitCast(d8, hn::Or(even, hn::And(odd, hn::Set(d16, 0xFF00))));
}

// One vector of pixels from `src` (Channels bytes each) to gray bytes at `out`.
template <int Channels, class D8>
HWY_INLINE void ConvertVector(D8 d8, const uint8_t* HWY_RESTRICT src, uint8_t* HWY_RESTRICT out) {
  using V8 = hn::Vec<D8>;
  if constexpr (Channels == 2) {
    V8 l, a;
    hn::LoadInterleaved2(d8, src, l, a);
    hn::StoreU(l, d8, out);
  } else if constexpr (Channels == 3) {
    V8 r, g, b;
    hn::LoadInterleaved3(d8, src, r, g, b);
    hn::StoreU(Luma(d8, r, g, b), d8, out);
  } else {
    V8 r, g, b, a;
    hn::LoadInterleaved4(d8, src, r, g, b, a);
    hn::StoreU(Luma(d8, r, g, b), d8, out);
  }
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
  const hn::ScalableTag<uint8_t> d8;
  const size_t lanes = hn::Lanes(d8);
  size_t i = 0;
  for (; i + lanes <= n; i += lanes)
    ConvertVector<Channels>(d8, src + Channels * i, out + i);
  if (i == n) return;
  // The tail runs through the same vector code on a zero-padded copy, so every pixel of every
  // length takes one computation path.
  HWY_ALIGN uint8_t in_buf[4 * HWY_MAX_BYTES] = {};
  HWY_ALIGN uint8_t out_buf[HWY_MAX_BYTES];
  std::memcpy(in_buf, src + Channels * i, Channels * (n - i));
  ConvertVector<Channels>(d8, in_buf, out_buf);
  std::memcpy(out + i, out_buf, n - i);
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
