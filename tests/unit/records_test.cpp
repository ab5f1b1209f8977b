#include <gtest/gtest.h>

#include "timing/metadata.hpp"
#include "timing/records.hpp"

namespace graybench {
namespace {

TEST(Records, ImageRecordWireRoundTrip) {
  ImageRecord r;
  r.image = 42;
  r.path = "/data/x.png";
  r.rank = 3;
  r.worker = 2;
  r.repeat = 1;
  r.width = 640;
  r.height = 480;
  r.channels = 4;
  r.bit_depth = 16;
  r.bytes_in = 1234;
  r.bytes_out = 99;
  r.status = 2;
  r.error = "decode failed: bad";
  r.checksum = 0xDEADBEEFCAFEF00Dull;
  r.t_start = 0.5;
  r.t_end = 0.75;
  r.read_s = 0.01;
  r.decode_s = 0.02;
  r.convert_s = 0.03;
  r.encode_s = 0.04;
  r.write_s = 0.05;
  r.queue_wait_s = 0.06;
  r.ipc_s = 0.07;
  r.ipc_bytes = 307200;
  WireWriter w;
  put(w, r);
  put(w, r);
  const auto bytes = w.take();
  WireReader rd(bytes);
  ImageRecord a, b;
  get(rd, a);
  get(rd, b);
  EXPECT_TRUE(rd.done());
  for (const auto* x : {&a, &b}) {
    EXPECT_EQ(x->image, 42u);
    EXPECT_EQ(x->path, r.path);
    EXPECT_EQ(x->error, r.error);
    EXPECT_EQ(x->checksum, r.checksum);
    EXPECT_EQ(x->bit_depth, 16u);
    EXPECT_DOUBLE_EQ(x->queue_wait_s, 0.06);
    EXPECT_DOUBLE_EQ(x->ipc_s, 0.07);
    EXPECT_EQ(x->ipc_bytes, 307200u);
  }
}

TEST(Records, TruncatedMessageThrows) {
  WireWriter w;
  put(w, RankRecord{});
  auto bytes = w.take();
  bytes.pop_back();
  WireReader rd(bytes);
  RankRecord r;
  EXPECT_THROW(get(rd, r), std::runtime_error);
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

}  // namespace
}  // namespace graybench
