#pragma once

// One name table per enum, and everything derived from it: parsing, printing, the list of
// choices for --help and error messages, and HDF5 enum types (h5/). An enum joins by writing its
// table next to itself with GRAYBENCH_ENUM_NAMES(E, "noun", {value, "name", "meaning"}, ...),
// which defines the `enum_names(E)` and `enum_noun(E)` overloads found by argument-dependent
// lookup.

#include <concepts>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace graybench {

/// One row of an enum's name table.
template <typename E>
struct EnumName {
  E value;
  std::string_view name;
  std::string_view meaning;  ///< one line, for --help and docs
  bool alias = false;        ///< accepted when parsing, never printed
};

/// Every enum with a name table: `enum_names(E{})` returns it, `enum_noun(E{})` says what a
/// value is ("strategy", "policy").
template <typename E>
concept NamedEnum = requires(E e) {
  { enum_names(e) } -> std::convertible_to<std::span<const EnumName<E>>>;
  { enum_noun(e) } -> std::convertible_to<std::string_view>;
};

/// The name table of E.
template <NamedEnum E>
constexpr std::span<const EnumName<E>> names_of() {
  return enum_names(E{});
}

/// The name of `value` ("?" for a value missing from the table, which a test forbids).
template <NamedEnum E>
constexpr std::string_view name_of(E value) {
  for (const auto& entry : names_of<E>()) {
    if (entry.value == value && !entry.alias) return entry.name;
  }
  return "?";
}

/// The one-line meaning of `value`.
template <NamedEnum E>
constexpr std::string_view meaning_of(E value) {
  for (const auto& entry : names_of<E>()) {
    if (entry.value == value && !entry.alias) return entry.meaning;
  }
  return "";
}

/// The value named `name`, aliases included.
template <NamedEnum E>
constexpr std::optional<E> parse_enum(std::string_view name) {
  for (const auto& entry : names_of<E>()) {
    if (entry.name == name) return entry.value;
  }
  return std::nullopt;
}

/// The printable names joined by `sep`: "block, cyclic, size, dynamic".
template <NamedEnum E>
std::string enum_choices(std::string_view sep = ", ") {
  std::string out;
  for (const auto& entry : names_of<E>()) {
    if (entry.alias) continue;
    if (!out.empty()) out += sep;
    out += entry.name;
  }
  return out;
}

/// "unknown strategy 'x'; choose one of sequential, threads, ..." (`extra` names further
/// accepted words such as "all").
template <NamedEnum E>
std::string unknown_enum_message(std::string_view name, std::string_view extra = {}) {
  std::string choices = enum_choices<E>();
  if (!extra.empty()) choices += ", " + std::string(extra);
  return "unknown " + std::string(enum_noun(E{})) + " '" + std::string(name) + "'; choose one of " +
         choices;
}

/// Printing any named enum: to_string(Strategy::kPool) == "pool".
template <NamedEnum E>
constexpr std::string_view to_string(E value) {
  return name_of(value);
}

}  // namespace graybench

/// Declares the name table of enum E (in E's namespace): each further argument is an
/// EnumName<E>, `{E::kValue, "name", "one-line meaning"}` (a fourth member `true` marks an alias
/// accepted when parsing only). `noun` says what a value is in messages ("strategy").
#define GRAYBENCH_ENUM_NAMES(E, noun, ...)                                 \
  inline constexpr ::graybench::EnumName<E> k##E##Names[] = {__VA_ARGS__}; \
  constexpr std::span<const ::graybench::EnumName<E>> enum_names(E) {      \
    return k##E##Names;                                                    \
  }                                                                        \
  constexpr std::string_view enum_noun(E) {                                \
    return noun;                                                           \
  }
