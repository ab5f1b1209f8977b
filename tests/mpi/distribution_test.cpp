#include <gtest/gtest.h>

#include <algorithm>

#include "common/wire.hpp"
#include "mpi/comm.hpp"
#include "mpi/distribution.hpp"

namespace graybench {
namespace {

std::vector<InputFile> fake_inputs(std::size_t n) {
  std::vector<InputFile> v;
  for (std::size_t i = 0; i < n; ++i) {
    v.push_back({"/img/" + std::to_string(i) + ".png", 1000 + (i * 7919) % 5000, "o" + std::to_string(i)});
  }
  return v;
}

/// Gathers every rank's item indices at rank 0.
std::vector<std::uint64_t> all_indices(const mpi::Comm& comm, const std::vector<WorkItem>& items) {
  WireWriter w;
  for (const auto& it : items) w.put(it.index);
  const auto parts = comm.gather(w.buffer(), 0);
  std::vector<std::uint64_t> out;
  for (const auto& p : parts) {
    WireReader r(p);
    while (!r.done()) out.push_back(r.get<std::uint64_t>());
  }
  return out;
}

TEST(Comm, BroadcastGatherScatter) {
  const auto comm = mpi::Comm::world();
  std::vector<std::uint8_t> b;
  if (comm.rank() == 0) b = {1, 2, 3};
  comm.bcast(b, 0);
  EXPECT_EQ(b, (std::vector<std::uint8_t>{1, 2, 3}));
  std::vector<std::uint8_t> mine(static_cast<std::size_t>(comm.rank()), static_cast<std::uint8_t>(comm.rank()));
  const auto parts = comm.gather(mine, 0);
  if (comm.rank() == 0) {
    ASSERT_EQ(parts.size(), static_cast<std::size_t>(comm.size()));
    for (int r = 0; r < comm.size(); ++r) EXPECT_EQ(parts[r].size(), static_cast<std::size_t>(r));
  }
  std::vector<std::vector<std::uint8_t>> out;
  if (comm.rank() == 0) {
    for (int r = 0; r < comm.size(); ++r) out.push_back(std::vector<std::uint8_t>(r + 1, 7));
  }
  EXPECT_EQ(comm.scatter(out, 0).size(), static_cast<std::size_t>(comm.rank() + 1));
  EXPECT_EQ(comm.sum(1), static_cast<std::uint64_t>(comm.size()));
  EXPECT_DOUBLE_EQ(comm.max(comm.rank()), comm.size() - 1);
  EXPECT_EQ(comm.all_hosts("h").size(), static_cast<std::size_t>(comm.size()));
}

class Distribute : public ::testing::TestWithParam<std::size_t> {};

TEST_P(Distribute, BlockDeliversEveryImageExactlyOnce) {
  const auto comm = mpi::Comm::world();
  const std::size_t n = GetParam();
  const auto files = comm.rank() == 0 ? fake_inputs(n) : std::vector<InputFile>{};
  const auto items = distribute_static(Distribution::kBlock, files, comm);
  const auto counts_min = comm.min(static_cast<double>(items.size()));
  const auto counts_max = comm.max(static_cast<double>(items.size()));
  EXPECT_LE(counts_max - counts_min, 1.0);
  for (const auto& it : items) {
    EXPECT_EQ(it.file.path, "/img/" + std::to_string(it.index) + ".png");
    EXPECT_EQ(it.file.output_rel, "o" + std::to_string(it.index));
  }
  auto idx = all_indices(comm, items);
  if (comm.rank() == 0) {
    std::sort(idx.begin(), idx.end());
    ASSERT_EQ(idx.size(), n);
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(idx[i], i);
  }
}

INSTANTIATE_TEST_SUITE_P(Counts, Distribute, ::testing::Values(0, 1, 2, 3, 5, 64, 1001));

TEST(PlanStatic, BlockIsContiguousAndBalanced) {
  const auto files = fake_inputs(10);
  const auto plan = plan_static(Distribution::kBlock, files, 4);
  ASSERT_EQ(plan.size(), 4u);
  EXPECT_EQ(plan[0], (std::vector<std::uint64_t>{0, 1, 2}));
  EXPECT_EQ(plan[1], (std::vector<std::uint64_t>{3, 4, 5}));
  EXPECT_EQ(plan[2], (std::vector<std::uint64_t>{6, 7}));
  EXPECT_EQ(plan[3], (std::vector<std::uint64_t>{8, 9}));
}

}  // namespace
}  // namespace graybench
