#pragma once

// Records filled and compared field by field through their tables (core/fields.hpp), so a
// round-trip test covers every column, including columns added later.

#include <gtest/gtest.h>

#include <string>

#include "core/fields.hpp"

namespace graybench::test {

/// A record whose every field holds a value distinct from every other field's and from the
/// same field in a record made with another `seed`.
template <Recorded R>
R distinct_record(int seed) {
  R rec{};
  int k = 0;
  for (const auto& f : fields_of<R>()) {
    ++k;
    std::visit(
        [&](auto m) {
          using T = std::remove_cvref_t<decltype(rec.*m)>;
          if constexpr (std::is_same_v<T, std::string>) {
            rec.*m = std::string(f.name) + "-" + std::to_string(seed) + " \xc3\xa9";
          } else if constexpr (std::is_same_v<T, ImageStatus>) {
            rec.*m = static_cast<ImageStatus>((seed + k) % 8);
          } else if constexpr (std::is_floating_point_v<T>) {
            rec.*m = k + seed / 1024.0 + 0.125;
          } else {
            rec.*m = static_cast<T>(1000 * k + seed);
          }
        },
        f.member);
  }
  return rec;
}

/// Expects every field of `a` and `e` equal (stored fields only when `stored_only`), naming
/// the field on failure.
template <Recorded R>
void expect_same_fields(const R& a, const R& e, bool stored_only = false) {
  for (const auto& f : fields_of<R>()) {
    if (stored_only && !f.stored) continue;
    std::visit([&](auto m) { EXPECT_EQ(a.*m, e.*m) << "field " << f.name; }, f.member);
  }
}

}  // namespace graybench::test
