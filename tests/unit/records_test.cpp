#include <gtest/gtest.h>

#include <set>

#include "core/work_item.hpp"
#include "support/records.hpp"
#include "timing/metadata.hpp"
#include "timing/records.hpp"

namespace graybench {
namespace {

using test::distinct_record;
using test::expect_same_fields;

template <typename R>
class RecordWire : public ::testing::Test {};
using RecordTypes = ::testing::Types<ImageRecord, RankRecord, InputFile>;
TYPED_TEST_SUITE(RecordWire, RecordTypes);

TYPED_TEST(RecordWire, RoundTripsEveryField) {
  const auto a = distinct_record<TypeParam>(1), b = distinct_record<TypeParam>(2);
  WireWriter w;
  put(w, a);
  put(w, b);
  const auto bytes = w.take();
  WireReader rd(bytes);
  TypeParam x, y;
  get(rd, x);
  get(rd, y);
  EXPECT_TRUE(rd.done());
  expect_same_fields(x, a);
  expect_same_fields(y, b);
}

TYPED_TEST(RecordWire, TruncatedMessageThrows) {
  WireWriter w;
  put(w, distinct_record<TypeParam>(3));
  auto bytes = w.take();
  bytes.pop_back();
  WireReader rd(bytes);
  TypeParam r;
  EXPECT_THROW(get(rd, r), std::runtime_error);
}

TYPED_TEST(RecordWire, FieldNamesAreUniqueAndDescribed) {
  std::set<std::string_view> names;
  for (const auto& f : fields_of<TypeParam>()) {
    EXPECT_TRUE(names.insert(f.name).second) << "duplicate field " << f.name;
    EXPECT_FALSE(f.meaning.empty()) << f.name;
  }
}

TEST(Records, DistinctValuesReallyDiffer) {
  // The round trips above would miss two swapped columns if two fields held equal values.
  const auto r = distinct_record<ImageRecord>(1);
  EXPECT_NE(r.t_start, r.t_end);
  EXPECT_NE(r.width, r.height);
  EXPECT_NE(r.path, r.error);
  EXPECT_NE(r.read_s, r.decode_s);
}

TEST(Records, WorkItemTravelsWithItsFile) {
  WorkItem item;
  item.index = 7;
  item.file = distinct_record<InputFile>(5);
  item.decoded = Image{};  // never travels with the item
  WireWriter w;
  put(w, item);
  const auto bytes = w.take();
  WireReader rd(bytes);
  WorkItem back;
  get(rd, back);
  EXPECT_TRUE(rd.done());
  EXPECT_EQ(back.index, 7u);
  expect_same_fields(back.file, item.file);
  EXPECT_FALSE(back.decoded);
}

TEST(Records, AttributesReplaceAndConvert) {
  Attributes a;
  a.set("x", std::int64_t{3});
  a.set("y", 2.5);
  a.set("x", std::string("now a string"));
  EXPECT_EQ(a.items().size(), 2u);
  EXPECT_EQ(a.str("x"), "now a string");
  EXPECT_DOUBLE_EQ(a.real("y"), 2.5);
  EXPECT_EQ(a.integer("missing"), 0);
}

TEST(Metadata, CpuListsAndTimes) {
  EXPECT_EQ(format_cpu_list({0, 1, 2, 3, 8, 10, 11}), "0-3,8,10-11");
  EXPECT_EQ(format_cpu_list({}), "");
  int n = 0;
  EXPECT_FALSE(affinity_cpus(&n).empty());
  EXPECT_GE(n, 1);
  const auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000123));
  EXPECT_EQ(iso8601_utc(t), "2023-11-14T22:13:20.123Z");
}

TEST(Metadata, ProcessStartIsInThePastAndStable) {
  const auto now = std::chrono::steady_clock::now();
  const auto a = process_start_time(), b = process_start_time();
  EXPECT_LE(a, now);
  // One clock tick of resolution; the process cannot be older than an hour in a test run.
  EXPECT_LT(std::chrono::abs(a - b), std::chrono::milliseconds(50));
  EXPECT_LT(now - a, std::chrono::hours(1));
}

}  // namespace
}  // namespace graybench
