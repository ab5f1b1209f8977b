#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "core/wire.hpp"
#include "io/codec.hpp"
#include "io/file.hpp"
#include "mpi/comm.hpp"
#include "mpi/distribution.hpp"
#include "support/process.hpp"

namespace graybench {
namespace {

std::vector<InputFile> fake_inputs(std::size_t n) {
  std::vector<InputFile> v;
  for (std::size_t i = 0; i < n; ++i) {
    v.push_back(
        {"/img/" + std::to_string(i) + ".png", 1000 + (i * 7919) % 5000, "o" + std::to_string(i)});
  }
  return v;
}

/// Gathers every rank's item indices at rank 0 (empty elsewhere).
std::vector<std::uint64_t> all_indices(const mpi::Comm& comm,
                                       const std::vector<std::uint64_t>& mine) {
  WireWriter w;
  for (auto i : mine)
    w.put(i);
  const auto parts = comm.gather(w.buffer(), 0);
  std::vector<std::uint64_t> out;
  for (const auto& p : parts) {
    WireReader r(p);
    while (!r.done())
      out.push_back(r.get<std::uint64_t>());
  }
  return out;
}

TEST(Comm, KnowsItWasStartedByALauncher) {
  // These tests run under mpirun (every rank count): the singleton-only settings (PML ob1,
  // no daemon) must not apply. The singleton side: StartedByLauncherReadsTheEnvironment.
  EXPECT_TRUE(mpi::started_by_launcher());
}

TEST(Comm, BroadcastGatherScatter) {
  const auto comm = mpi::Comm::world();
  std::vector<std::uint8_t> b;
  if (comm.rank() == 0) b = {1, 2, 3};
  comm.bcast(b, 0);
  EXPECT_EQ(b, (std::vector<std::uint8_t>{1, 2, 3}));
  std::vector<std::uint8_t> mine(static_cast<std::size_t>(comm.rank()),
                                 static_cast<std::uint8_t>(comm.rank()));
  const auto parts = comm.gather(mine, 0);
  if (comm.rank() == 0) {
    ASSERT_EQ(parts.size(), static_cast<std::size_t>(comm.size()));
    for (int r = 0; r < comm.size(); ++r)
      EXPECT_EQ(parts[r].size(), static_cast<std::size_t>(r));
  }
  std::vector<std::vector<std::uint8_t>> out;
  if (comm.rank() == 0) {
    for (int r = 0; r < comm.size(); ++r)
      out.push_back(std::vector<std::uint8_t>(r + 1, 7));
  }
  EXPECT_EQ(comm.scatter(out, 0).size(), static_cast<std::size_t>(comm.rank() + 1));
  EXPECT_EQ(comm.sum(1), static_cast<std::uint64_t>(comm.size()));
  EXPECT_DOUBLE_EQ(comm.max(comm.rank()), comm.size() - 1);
}

struct Case {
  Distribution policy;
  std::size_t n;
  int chunk;
  CounterKind counter = CounterKind::kAuto;
};

std::string case_name(const ::testing::TestParamInfo<Case>& p) {
  return std::string(to_string(p.param.policy)) + "_n" + std::to_string(p.param.n) + "_c" +
         std::to_string(p.param.chunk) +
         (p.param.counter == CounterKind::kDispatcher ? "_dispatcher" : "");
}

class EveryPolicy : public ::testing::TestWithParam<Case> {};

// Every policy delivers every image to exactly one rank, whatever the rank count: 0 images,
// one, fewer than ranks, and many.
TEST_P(EveryPolicy, DeliversEveryImageExactlyOnce) {
  const auto comm = mpi::Comm::world();
  const auto& [policy, n, chunk, counter] = GetParam();
  const auto files = comm.rank() == 0 ? fake_inputs(n) : std::vector<InputFile>{};
  std::vector<std::uint64_t> mine;
  {
    // The size policy's estimates come in as data (the job reads them with io/'s
    // work_estimates); fake inputs have no headers, so their sizes stand in.
    std::vector<std::uint64_t> estimates;
    if (policy == Distribution::kSize) {
      for (const auto& f : files)
        estimates.push_back(f.size);
    }
    auto feed = make_feed(policy, files, comm, chunk, counter, estimates);
    if (counter == CounterKind::kDispatcher) {
      EXPECT_EQ(feed->mechanism(), "dispatcher");
    }
    for (auto batch = feed->next_batch(); !batch.empty(); batch = feed->next_batch()) {
      if (policy == Distribution::kDynamic) {
        EXPECT_LE(batch.size(), static_cast<std::size_t>(chunk));
      }
      for (const auto& it : batch) {
        EXPECT_EQ(it.file.path, "/img/" + std::to_string(it.index) + ".png");
        EXPECT_EQ(it.file.output_rel, "o" + std::to_string(it.index));
        mine.push_back(it.index);
      }
    }
    EXPECT_TRUE(feed->next_batch().empty());
    feed->finish();
    comm.barrier();  // every rank has drained before the window goes
  }
  if (policy == Distribution::kBlock || policy == Distribution::kCyclic) {
    const double count = static_cast<double>(mine.size());
    EXPECT_LE(comm.max(count) - comm.min(count), 1.0);
  }
  auto idx = all_indices(comm, mine);
  if (comm.rank() == 0) {
    std::sort(idx.begin(), idx.end());
    std::vector<std::uint64_t> expected(n);
    std::iota(expected.begin(), expected.end(), 0);
    EXPECT_EQ(idx, expected);
  }
}

std::vector<Case> cases() {
  std::vector<Case> v;
  for (auto p :
       {Distribution::kBlock, Distribution::kCyclic, Distribution::kSize, Distribution::kDynamic}) {
    for (std::size_t n : {0, 1, 2, 3, 5, 64, 1001})
      v.push_back({p, n, 1});
  }
  for (int chunk : {3, 16, 5000})
    v.push_back({Distribution::kDynamic, 1001, chunk});
  // The fallback for transports without one-sided atomics, forced.
  for (std::size_t n : {0, 1, 3, 1001})
    v.push_back({Distribution::kDynamic, n, 2, CounterKind::kDispatcher});
  return v;
}

INSTANTIATE_TEST_SUITE_P(Policies, EveryPolicy, ::testing::ValuesIn(cases()), case_name);

class Counters : public ::testing::TestWithParam<CounterKind> {};

TEST_P(Counters, EveryRankDrawsUnderContention) {
  // Many small chunks: ranks race on the counter; no index is lost or duplicated, and (with
  // more items than ranks) rank 0 gets work too, whichever mechanism serves the counter.
  const auto comm = mpi::Comm::world();
  const std::size_t n = 4000;
  const auto files = comm.rank() == 0 ? fake_inputs(n) : std::vector<InputFile>{};
  std::vector<std::uint64_t> mine;
  {
    auto feed = make_feed(Distribution::kDynamic, files, comm, 1, GetParam());
    for (auto b = feed->next_batch(); !b.empty(); b = feed->next_batch())
      mine.push_back(b[0].index);
    feed->finish();
    comm.barrier();
  }
  EXPECT_TRUE(std::is_sorted(mine.begin(), mine.end()));  // a counter only goes up
  auto idx = all_indices(comm, mine);
  if (comm.rank() == 0) {
    EXPECT_FALSE(mine.empty());
    std::sort(idx.begin(), idx.end());
    EXPECT_EQ(std::adjacent_find(idx.begin(), idx.end()), idx.end());
    EXPECT_EQ(idx.size(), n);
  }
}

INSTANTIATE_TEST_SUITE_P(Dynamic, Counters,
                         ::testing::Values(CounterKind::kAuto, CounterKind::kDispatcher));

TEST(SizePolicy, ReadsPixelsFromHeadersOnRankZero) {
  const auto comm = mpi::Comm::world();
  test::TempDir d;  // each rank its own: only rank 0's is read
  std::vector<InputFile> files;
  const int sizes[][2] = {{200, 200}, {10, 10}, {10, 10}, {180, 190}, {10, 10}, {12, 12}};
  for (int i = 0; i < 6; ++i) {
    const int w = sizes[i][0], h = sizes[i][1];
    const auto p = d / ("img" + std::to_string(i) + ".png");
    write_file_atomically(
        p, encode_png(std::vector<std::uint8_t>(static_cast<std::size_t>(w) * h, 9), w, h, 1));
    files.push_back({p.string(), 1, "x"});  // equal byte sizes: only pixels tell them apart
  }
  EXPECT_EQ(work_estimates(files)[0], 40000u);
  const bool root = comm.rank() == 0;
  const auto items =
      distribute_static(Distribution::kSize, root ? files : std::vector<InputFile>{}, comm,
                        root ? work_estimates(files) : std::vector<std::uint64_t>{});
  // The two large images never land on the same rank when there are at least two ranks.
  int large = 0;
  for (const auto& it : items)
    large += it.index == 0 || it.index == 3;
  if (comm.size() >= 2) {
    EXPECT_LE(large, 1);
  }
}

TEST(PlanStatic, BlockIsContiguousAndBalanced) {
  const auto plan = plan_static(Distribution::kBlock, 10, 4);
  ASSERT_EQ(plan.size(), 4u);
  EXPECT_EQ(plan[0], (std::vector<std::uint64_t>{0, 1, 2}));
  EXPECT_EQ(plan[1], (std::vector<std::uint64_t>{3, 4, 5}));
  EXPECT_EQ(plan[2], (std::vector<std::uint64_t>{6, 7}));
  EXPECT_EQ(plan[3], (std::vector<std::uint64_t>{8, 9}));
}

TEST(PlanStatic, CyclicIsRoundRobin) {
  const auto plan = plan_static(Distribution::kCyclic, 7, 3);
  EXPECT_EQ(plan[0], (std::vector<std::uint64_t>{0, 3, 6}));
  EXPECT_EQ(plan[1], (std::vector<std::uint64_t>{1, 4}));
  EXPECT_EQ(plan[2], (std::vector<std::uint64_t>{2, 5}));
}

TEST(PlanStatic, SizeBalancesLoadLongestFirst) {
  // Sorted by path, the big images come first: block would give them all to rank 0.
  const std::vector<std::uint64_t> est = {100, 90, 80, 70, 10, 10, 10, 10, 10, 10, 10, 10};
  const auto plan = plan_static(Distribution::kSize, est.size(), 4, est);
  std::vector<std::uint64_t> loads;
  for (const auto& p : plan) {
    EXPECT_TRUE(std::is_sorted(p.begin(), p.end()));
    std::uint64_t load = 0;
    for (auto i : p)
      load += est[i];
    loads.push_back(load);
  }
  EXPECT_EQ(loads, (std::vector<std::uint64_t>{110, 110, 100, 100}));  // optimum: 430 / 4 = 107.5
  const auto block = plan_static(Distribution::kBlock, est.size(), 4);
  EXPECT_EQ(block[0], (std::vector<std::uint64_t>{0, 1, 2}));  // 270 of 430 on one rank
  EXPECT_THROW(plan_static(Distribution::kSize, 3, 2, {1}), std::invalid_argument);
  EXPECT_THROW(plan_static(Distribution::kDynamic, 3, 2), std::invalid_argument);
}

TEST(PlanStatic, MoreRanksThanImages) {
  for (auto p : {Distribution::kBlock, Distribution::kCyclic, Distribution::kSize}) {
    const auto plan = plan_static(p, 2, 5, std::vector<std::uint64_t>(2, 1));
    std::size_t total = 0;
    for (const auto& r : plan)
      total += r.size();
    EXPECT_EQ(total, 2u);
  }
}

}  // namespace
}  // namespace graybench
