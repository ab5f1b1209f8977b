#pragma once

// A record's on-disk and on-wire layout, declared once as a table of fields: name, member,
// unit, one-line meaning. The wire encoding (below), the HDF5 compound types (h5/records.hpp)
// and the test against docs/schema.md are all driven by the table, so adding a column is one
// line in the table plus its row in docs/schema.md.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "core/errors.hpp"
#include "core/wire.hpp"

namespace graybench {

/// A pointer to one member of R, of one of the types a table may use.
template <typename R>
using MemberPtr = std::variant<std::int32_t R::*, std::uint32_t R::*, std::int64_t R::*,
                               std::uint64_t R::*, double R::*, std::string R::*, ImageStatus R::*>;

/// One column of a record table.
template <typename R>
struct Field {
  std::string_view name;
  MemberPtr<R> member;
  std::string_view unit;     ///< "s", "bytes", "pixels", "KiB", or "" (a count, an id, a name)
  std::string_view meaning;  ///< one line; docs/schema.md says the same
  bool stored = true;        ///< false: travels on the wire only, never written to HDF5
};

/// Every record type with a table: `record_fields(static_cast<const R*>(nullptr))` returns it.
template <typename R>
concept Recorded = requires(const R* r) {
  { record_fields(r) } -> std::convertible_to<std::span<const Field<R>>>;
};

template <Recorded R>
constexpr std::span<const Field<R>> fields_of() {
  return record_fields(static_cast<const R*>(nullptr));
}

/// The schema's name for the type of `f`: int32, uint32, int64, uint64, float64, string, enum.
template <typename R>
constexpr std::string_view type_name(const Field<R>& f) {
  constexpr std::string_view names[] = {"int32",   "uint32", "int64", "uint64",
                                        "float64", "string", "enum"};
  return names[f.member.index()];
}

namespace detail {
template <typename T>
void put_value(WireWriter& w, const T& v) {
  if constexpr (std::is_same_v<T, std::string>) {
    w.put_string(v);
  } else {
    w.put(v);
  }
}
template <typename T>
void get_value(WireReader& r, T& v) {
  if constexpr (std::is_same_v<T, std::string>) {
    v = r.get_string();
  } else {
    v = r.get<T>();
  }
}
}  // namespace detail

/// Appends every field of `rec`, in table order.
template <Recorded R>
void put(WireWriter& w, const R& rec) {
  for (const auto& f : fields_of<R>()) {
    std::visit([&](auto m) { detail::put_value(w, rec.*m); }, f.member);
  }
}

/// Reads what put() wrote; throws std::runtime_error on a truncated message.
template <Recorded R>
void get(WireReader& r, R& rec) {
  for (const auto& f : fields_of<R>()) {
    std::visit([&](auto m) { detail::get_value(r, rec.*m); }, f.member);
  }
}

}  // namespace graybench

/// Declares one member of a record from its field list (see timing/records.hpp).
#define GRAYBENCH_MEMBER(type, name, unit, meaning) type name{};
