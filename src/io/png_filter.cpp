// PNG row filtering, compiled once per SIMD target by Highway's foreach_target.h and dispatched
// at run time (as the grayscale kernel is).
//
// Encoding filters read only the raw image: Sub's left neighbour, Up's upper one and Paeth's
// three neighbours are all input bytes, never earlier outputs. So every candidate vectorises
// for any pixel size, and one pass over a row yields all four costs; a second pass writes
// only the chosen filter.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "io/png_filter.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
// foreach_target.h must precede highway.h.
#include <hwy/highway.h>

#include <cstring>

#include "io/png_filter.hpp"

HWY_BEFORE_NAMESPACE();
namespace graybench::detail {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// PNG's filter type bytes.
constexpr uint8_t kNone = 0, kSub = 1, kUp = 2, kPaeth = 4;
// Not a PNG type: choose per row.
constexpr uint8_t kMinSum = 255;

/// The PNG specification's Paeth predictor.
HWY_INLINE uint8_t PaethScalar(int a, int b, int c) {
  const int p = a + b - c;
  const int pa = p > a ? p - a : a - p;
  const int pb = p > b ? p - b : b - p;
  const int pc = p > c ? p - c : c - p;
  return static_cast<uint8_t>(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
}

/// |v| for the byte read as two's complement, as libpng counts it (-128 costs 128).
HWY_INLINE uint32_t CostScalar(uint8_t v) {
  return v < 128 ? v : 256u - v;
}

struct Costs {
  uint64_t none = 0, sub = 0, up = 0, paeth = 0;
};

/// The neighbours of byte i: left (a), up (b), up-left (c); zero left of the first pixel.
HWY_INLINE void Neighbours(const uint8_t* cur, const uint8_t* prev, size_t bpp, size_t i, int& a,
                           int& b, int& c) {
  a = i >= bpp ? cur[i - bpp] : 0;
  b = prev[i];
  c = i >= bpp ? prev[i - bpp] : 0;
}

void CostsScalar(const uint8_t* cur, const uint8_t* prev, size_t bpp, size_t from, size_t to,
                 Costs& k) {
  for (size_t i = from; i < to; ++i) {
    int a, b, c;
    Neighbours(cur, prev, bpp, i, a, b, c);
    const uint8_t x = cur[i];
    k.none += CostScalar(x);
    k.sub += CostScalar(static_cast<uint8_t>(x - a));
    k.up += CostScalar(static_cast<uint8_t>(x - b));
    k.paeth += CostScalar(static_cast<uint8_t>(x - PaethScalar(a, b, c)));
  }
}

template <uint8_t kType>
void WriteScalar(const uint8_t* cur, const uint8_t* prev, size_t bpp, size_t from, size_t to,
                 uint8_t* dst) {
  for (size_t i = from; i < to; ++i) {
    int a, b, c;
    Neighbours(cur, prev, bpp, i, a, b, c);
    const int pred = kType == kSub ? a : kType == kUp ? b : PaethScalar(a, b, c);
    dst[i] = static_cast<uint8_t>(cur[i] - pred);
  }
}

#if HWY_TARGET != HWY_SCALAR
/// |a - b| for unsigned bytes.
template <class V>
HWY_INLINE V AbsDiffU8(V a, V b) {
  return hn::Or(hn::SaturatedSub(a, b), hn::SaturatedSub(b, a));
}

/// Paeth's predictor on bytes without widening: with p = a + b - c, |p - a| = |b - c| and
/// |p - b| = |a - c| fit a byte; |p - c| = |(b - c) + (a - c)| is their sum when both
/// differences have the same sign and their difference otherwise. The sum saturates at 255,
/// which keeps every comparison with the other two (both <= 255) as it was.
template <class D, class V = hn::Vec<D>>
HWY_INLINE V PaethVec(D d, V a, V b, V c) {
  const V pa = AbsDiffU8(b, c);
  const V pb = AbsDiffU8(a, c);
  const V signs_differ =
      hn::Xor(hn::VecFromMask(d, hn::Lt(b, c)), hn::VecFromMask(d, hn::Lt(a, c)));
  const V pc =
      hn::IfThenElse(hn::MaskFromVec(signs_differ), AbsDiffU8(pa, pb), hn::SaturatedAdd(pa, pb));
  const V min_bc = hn::Min(pb, pc);
  // pa <= pb && pa <= pc  <=>  min(pa, pb, pc) == pa;  pb <= pc  <=>  min(pb, pc) == pb.
  return hn::IfThenElse(hn::Eq(hn::Min(pa, min_bc), pa), a,
                        hn::IfThenElse(hn::Eq(min_bc, pb), b, c));
}

/// Per-lane |v| of the bytes read as two's complement, summed in groups of 8 (psadbw):
/// min(v, -v) as unsigned bytes is that absolute value, 128 for -128 included.
template <class D, class V = hn::Vec<D>>
HWY_INLINE auto CostVec(D d, V v) {
  return hn::SumsOf8(hn::Min(v, hn::Sub(hn::Zero(d), v)));
}
#endif

/// Costs of the four candidates over the whole row.
Costs RowCosts(const uint8_t* HWY_RESTRICT cur, const uint8_t* HWY_RESTRICT prev, size_t n,
               size_t bpp) {
  Costs k;
  size_t i = bpp < n ? bpp : n;
  CostsScalar(cur, prev, bpp, 0, i, k);
#if HWY_TARGET != HWY_SCALAR
  const hn::ScalableTag<uint8_t> d;
  const hn::Repartition<uint64_t, decltype(d)> d64;
  const size_t lanes = hn::Lanes(d);
  auto none = hn::Zero(d64), sub = none, up = none, paeth = none;
  for (; i + lanes <= n; i += lanes) {
    const auto x = hn::LoadU(d, cur + i);
    const auto a = hn::LoadU(d, cur + i - bpp);
    const auto b = hn::LoadU(d, prev + i);
    const auto c = hn::LoadU(d, prev + i - bpp);
    none = hn::Add(none, CostVec(d, x));
    sub = hn::Add(sub, CostVec(d, hn::Sub(x, a)));
    up = hn::Add(up, CostVec(d, hn::Sub(x, b)));
    paeth = hn::Add(paeth, CostVec(d, hn::Sub(x, PaethVec(d, a, b, c))));
  }
  k.none += hn::GetLane(hn::SumOfLanes(d64, none));
  k.sub += hn::GetLane(hn::SumOfLanes(d64, sub));
  k.up += hn::GetLane(hn::SumOfLanes(d64, up));
  k.paeth += hn::GetLane(hn::SumOfLanes(d64, paeth));
#endif
  CostsScalar(cur, prev, bpp, i, n, k);
  return k;
}

/// Writes the row filtered with kType (Sub, Up or Paeth) to dst[0, n).
template <uint8_t kType>
void WriteRow(const uint8_t* HWY_RESTRICT cur, const uint8_t* HWY_RESTRICT prev, size_t n,
              size_t bpp, uint8_t* HWY_RESTRICT dst) {
  size_t i = bpp < n ? bpp : n;
  WriteScalar<kType>(cur, prev, bpp, 0, i, dst);
#if HWY_TARGET != HWY_SCALAR
  const hn::ScalableTag<uint8_t> d;
  const size_t lanes = hn::Lanes(d);
  for (; i + lanes <= n; i += lanes) {
    const auto x = hn::LoadU(d, cur + i);
    if constexpr (kType == kSub) {
      hn::StoreU(hn::Sub(x, hn::LoadU(d, cur + i - bpp)), d, dst + i);
    } else if constexpr (kType == kUp) {
      hn::StoreU(hn::Sub(x, hn::LoadU(d, prev + i)), d, dst + i);
    } else {
      const auto pred = PaethVec(d, hn::LoadU(d, cur + i - bpp), hn::LoadU(d, prev + i),
                                 hn::LoadU(d, prev + i - bpp));
      hn::StoreU(hn::Sub(x, pred), d, dst + i);
    }
  }
#endif
  WriteScalar<kType>(cur, prev, bpp, i, n, dst);
}

uint64_t FilterRows(const uint8_t* HWY_RESTRICT pixels, size_t n, size_t rows, size_t bpp,
                    const uint8_t* HWY_RESTRICT zeros, uint8_t* HWY_RESTRICT out, uint8_t fixed) {
  uint64_t total = 0;
  for (size_t y = 0; y < rows; ++y) {
    const uint8_t* cur = pixels + n * y;
    const uint8_t* prev = y ? cur - n : zeros;
    uint8_t* dst = out + (n + 1) * y;
    uint8_t type = fixed;
    if (fixed == kMinSum) {
      const Costs k = RowCosts(cur, prev, n, bpp);
      // Strictly less: ties keep the earlier filter.
      type = kNone;
      uint64_t best = k.none;
      if (k.sub < best) type = kSub, best = k.sub;
      if (k.up < best) type = kUp, best = k.up;
      if (k.paeth < best) type = kPaeth, best = k.paeth;
      total += best;
    }
    dst[0] = type;
    switch (type) {
      case kSub:
        WriteRow<kSub>(cur, prev, n, bpp, dst + 1);
        break;
      case kUp:
        WriteRow<kUp>(cur, prev, n, bpp, dst + 1);
        break;
      case kPaeth:
        WriteRow<kPaeth>(cur, prev, n, bpp, dst + 1);
        break;
      default:
        std::memcpy(dst + 1, cur, n);
        break;
    }
  }
  return total;
}

const char* TargetName() {
  return hwy::TargetName(HWY_TARGET);
}

}  // namespace HWY_NAMESPACE
}  // namespace graybench::detail
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <vector>

namespace graybench::detail {

HWY_EXPORT(FilterRows);
HWY_EXPORT(TargetName);

std::uint64_t png_filter_rows(const std::uint8_t* pixels, std::size_t row_bytes, std::size_t rows,
                              std::size_t bpp, std::uint8_t* out, PngFilter filter) {
  if (rows == 0 || row_bytes == 0) return 0;
  // The row above the first: zeros, reused per thread.
  thread_local std::vector<std::uint8_t> zeros;
  if (zeros.size() < row_bytes) zeros.assign(row_bytes, 0);
  return HWY_DYNAMIC_DISPATCH(FilterRows)(pixels, row_bytes, rows, bpp, zeros.data(), out,
                                          static_cast<std::uint8_t>(filter));
}

std::string png_filter_target() {
  return HWY_DYNAMIC_DISPATCH(TargetName)();
}

}  // namespace graybench::detail
#endif  // HWY_ONCE
