#include <gtest/gtest.h>

#include <set>

#include "core/errors.hpp"
#include "core/options.hpp"
#include "io/generator.hpp"

namespace graybench {
namespace {

template <typename E>
class EnumTable : public ::testing::Test {};
using NamedEnums = ::testing::Types<ImageStatus, Strategy, Distribution, CounterKind, Mode, Ipc,
                                    OmpKind, GenMode, GenFormat>;
TYPED_TEST_SUITE(EnumTable, NamedEnums);

TYPED_TEST(EnumTable, NamesAreUniqueAndRoundTrip) {
  std::set<std::string_view> names;
  std::set<TypeParam> values;
  for (const auto& entry : names_of<TypeParam>()) {
    EXPECT_TRUE(names.insert(entry.name).second) << "duplicate name " << entry.name;
    EXPECT_FALSE(entry.name.empty());
    EXPECT_EQ(parse_enum<TypeParam>(entry.name), entry.value) << entry.name;
    if (entry.alias) continue;
    EXPECT_TRUE(values.insert(entry.value).second) << "two printable names for one value";
    EXPECT_EQ(name_of(entry.value), entry.name);
    EXPECT_FALSE(entry.meaning.empty()) << entry.name;
  }
  EXPECT_FALSE(parse_enum<TypeParam>("no-such-name"));
}

TEST(EnumNames, ErrorMessageNamesTheChoices) {
  try {
    parse_enum_or_throw<Distribution>("random", "--distribution");
    FAIL() << "no exception";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(),
                 "--distribution: unknown policy 'random'; choose one of block, cyclic, size, "
                 "dynamic");
  }
  EXPECT_EQ(unknown_enum_message<Strategy>("x", "all"),
            "unknown strategy 'x'; choose one of sequential, threads, openmp, pool, processes, "
            "all");
}

TEST(EnumNames, AliasesParseButNeverPrint) {
  EXPECT_EQ(parse_enum<GenFormat>("jpeg"), GenFormat::kJpeg);
  EXPECT_EQ(name_of(GenFormat::kJpeg), "jpg");
  EXPECT_EQ(enum_choices<GenFormat>(), "png, jpg");
}

TEST(EnumNames, StatusValuesAreTheSchemaValues) {
  // Stored in files: appending values is fine, renumbering is not.
  EXPECT_EQ(static_cast<int>(*parse_enum<ImageStatus>("ok")), 0);
  EXPECT_EQ(static_cast<int>(*parse_enum<ImageStatus>("not_processed")), 6);
  EXPECT_EQ(static_cast<int>(*parse_enum<ImageStatus>("internal_error")), 7);
}

}  // namespace
}  // namespace graybench
