// One test body for every strategy in the table, at 1, 2 and 4 workers.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <latch>
#include <map>
#include <set>
#include <thread>

#include "core/cancel.hpp"
#include "core/errors.hpp"
#include "core/fault_injection.hpp"
#include "io/generator.hpp"
#include "io/listing.hpp"
#include "mpi/distribution.hpp"
#include "strategies/gil.hpp"
#include "strategies/strategy.hpp"
#include "strategies/worker_protocol.hpp"
#include "support/process.hpp"

namespace graybench {
namespace {

namespace fs = std::filesystem;
using test::slurp;
using test::TempDir;

/// A generated set shared by the tests of this file.
class Dataset {
 public:
  static const Dataset& get() {
    static const Dataset d;
    return d;
  }
  const InputList& list() const { return list_; }
  const fs::path& root() const { return dir_.path(); }

 private:
  Dataset() {
    GenOptions o;
    o.count = 13;
    o.sizes = {{64, 48}, {33, 21}};
    o.modes = parse_gen_modes("rgb,rgba,gray,graya,rgb16");
    generate_dataset(dir_.path() / "in", o);
    list_ = list_inputs({(dir_.path() / "in").string()}, {});
  }
  TempDir dir_;
  InputList list_;
};

std::vector<WorkItem> items_of(const InputList& list, bool preload = false) {
  std::vector<WorkItem> items;
  for (std::size_t i = 0; i < list.files.size(); ++i) {
    WorkItem it;
    it.index = i;
    it.file = list.files[i];
    if (preload) graybench::preload(it);
    items.push_back(std::move(it));
  }
  return items;
}

struct Outcome {
  StrategyOutcome out;
  std::map<std::uint64_t, std::uint64_t> checksums;
};

Outcome run(Strategy s, int workers, std::vector<WorkItem> items, const std::string& out_dir = "",
            Ipc ipc = Ipc::kPipe, Gil* gil = nullptr) {
  StaticFeed feed(std::move(items));
  std::atomic<std::uint64_t> done{0};
  StrategyContext ctx;
  ctx.feed = &feed;
  ctx.workers = workers;
  ctx.work.output_dir = out_dir;
  ctx.work.gil = gil;
  ctx.ipc = ipc;
  ctx.worker_exe = GRAYBENCH_EXE;
  ctx.origin = Clock::now();
  ctx.done = &done;
  Outcome o{strategy_info(s).run(ctx), {}};
  for (const auto& r : o.out.records)
    o.checksums[r.image] = r.checksum;
  std::size_t processed = 0;
  for (const auto& r : o.out.records)
    processed += r.status != ImageStatus::kNotProcessed;
  EXPECT_EQ(done.load(), processed);
  return o;
}

struct Param {
  Strategy strategy;
  int workers;
};

std::string name(const ::testing::TestParamInfo<Param>& p) {
  return std::string(strategy_info(p.param.strategy).name) + "_w" + std::to_string(p.param.workers);
}

std::vector<Param> all_params() {
  std::vector<Param> v;
  for (const auto& info : strategy_table()) {
    for (int w : {1, 2, 4})
      v.push_back({info.id, w});
  }
  return v;
}

/// Sequential checksums of the data set: what every strategy must reproduce.
const std::map<std::uint64_t, std::uint64_t>& reference_checksums() {
  static const auto ref = run(Strategy::kSequential, 1, items_of(Dataset::get().list())).checksums;
  return ref;
}

class EveryStrategy : public ::testing::TestWithParam<Param> {};

TEST_P(EveryStrategy, SameChecksumsAndOutputsAsSequential) {
  const auto& [strategy, workers] = GetParam();
  const auto& list = Dataset::get().list();
  TempDir ref_out, out;
  run(Strategy::kSequential, 1, items_of(list), ref_out.path().string());
  const Outcome o = run(strategy, workers, items_of(list), out.path().string());

  ASSERT_EQ(o.out.records.size(), list.files.size());
  EXPECT_EQ(o.checksums, reference_checksums());
  std::set<int> seen_workers;
  for (const auto& r : o.out.records) {
    EXPECT_EQ(r.status, ImageStatus::kOk) << r.error;
    EXPECT_NE(r.checksum, 0u);
    EXPECT_GE(r.worker, 0);
    EXPECT_LT(r.worker, workers);
    // queue_wait_s is clamped at 0, so ">= 0" could never fail; the wait ends when the work
    // starts and began no earlier than the run, so it cannot exceed t_start.
    EXPECT_LE(r.queue_wait_s, r.t_start);
    EXPECT_LE(r.t_start, r.t_end);
    EXPECT_GT(r.bytes_out, 0u);
    seen_workers.insert(r.worker);
    const auto& f = list.files[r.image];
    EXPECT_EQ(slurp(out / f.output_rel), slurp(ref_out / f.output_rel)) << f.output_rel;
  }
  EXPECT_GE(o.out.setup_s, 0.0);
  EXPECT_GE(o.out.teardown_s, 0.0);
  EXPECT_FALSE(o.out.worker_cpus.empty());
}

TEST_P(EveryStrategy, MemoryModeGivesTheSameChecksums) {
  const auto& [strategy, workers] = GetParam();
  const Outcome o = run(strategy, workers, items_of(Dataset::get().list(), true));
  EXPECT_EQ(o.checksums, reference_checksums());
}

void bad_images_case(Strategy strategy, int workers, bool memory) {
  TempDir d;
  std::ofstream(d / "bad.png") << "garbage";
  auto items = items_of(Dataset::get().list());
  WorkItem bad;
  bad.index = items.size();
  bad.file.path = (d / "bad.png").string();
  bad.file.output_rel = "bad.png";
  items.push_back(bad);
  WorkItem missing = bad;
  missing.index = items.size();
  missing.file.path = (d / "missing.png").string();
  items.push_back(missing);
  if (memory) {
    for (auto& it : items)
      graybench::preload(it);
  }
  const Outcome o = run(strategy, workers, std::move(items));
  ASSERT_EQ(o.out.records.size(), Dataset::get().list().files.size() + 2);
  for (const auto& r : o.out.records) {
    if (r.path == bad.file.path) {
      EXPECT_EQ(r.status, ImageStatus::kDecodeError);
    } else if (r.path == missing.file.path) {
      EXPECT_EQ(r.status, ImageStatus::kReadError);
      EXPECT_NE(r.error.find("missing.png"), std::string::npos) << r.error;
    } else {
      EXPECT_EQ(r.status, ImageStatus::kOk);
    }
  }
}

TEST_P(EveryStrategy, BadImagesBecomeRowsNotFailures) {
  const auto& [strategy, workers] = GetParam();
  for (bool memory : {false, true}) {
    SCOPED_TRACE(memory ? "memory" : "files");
    bad_images_case(strategy, workers, memory);
  }
}

TEST_P(EveryStrategy, StopRequestLeavesNotProcessedRows) {
  const auto& [strategy, workers] = GetParam();
  request_stop();
  const Outcome o = run(strategy, workers, items_of(Dataset::get().list()));
  clear_stop();
  ASSERT_EQ(o.out.records.size(), Dataset::get().list().files.size());
  for (const auto& r : o.out.records)
    EXPECT_EQ(r.status, ImageStatus::kNotProcessed);
}

TEST_P(EveryStrategy, EmptyFeedIsFine) {
  const auto& [strategy, workers] = GetParam();
  EXPECT_TRUE(run(strategy, workers, {}).out.records.empty());
}

TEST_P(EveryStrategy, GilKeepsResultsIdentical) {
  const auto& [strategy, workers] = GetParam();
  Gil gil(std::chrono::microseconds(100));
  const Outcome o = run(strategy, workers, items_of(Dataset::get().list()), "", Ipc::kPipe, &gil);
  EXPECT_EQ(o.checksums, reference_checksums());
}

/// A feed that hands out `per_batch` items at a time and throws on draw number `throw_on`
/// (counting from 0), as an MPI error in a dynamic feed's counter would.
class ThrowingFeed final : public WorkFeed {
 public:
  ThrowingFeed(std::vector<WorkItem> items, std::size_t per_batch, int throw_on, bool on_demand)
      : items_(std::move(items)),
        per_batch_(per_batch),
        throw_on_(throw_on),
        on_demand_(on_demand) {}
  std::vector<WorkItem> next_batch() override {
    if (draws_++ == throw_on_) throw std::runtime_error("feed broke on purpose");
    std::vector<WorkItem> batch;
    while (!items_.empty() && batch.size() < per_batch_) {
      batch.push_back(std::move(items_.back()));
      items_.pop_back();
    }
    return batch;
  }
  bool on_demand() const override { return on_demand_; }

 private:
  std::vector<WorkItem> items_;
  std::size_t per_batch_;
  int throw_on_;
  int draws_ = 0;
  bool on_demand_;
};

StrategyContext context_for(WorkFeed& feed, int workers, std::atomic<std::uint64_t>& done) {
  StrategyContext ctx;
  ctx.feed = &feed;
  ctx.workers = workers;
  ctx.worker_exe = GRAYBENCH_EXE;
  ctx.origin = Clock::now();
  ctx.done = &done;
  return ctx;
}

TEST_P(EveryStrategy, ThrowingFeedReachesTheCaller) {
  const auto& [strategy, workers] = GetParam();
  struct Case {
    const char* what;
    std::size_t per_batch;
    int throw_on;
    bool on_demand;
  };
  // First draw; after one batch (images in flight when it throws); on demand (OpenMP's threads
  // draw inside their parallel region).
  for (const Case& c : {Case{"first draw", 100, 0, false}, Case{"second draw", 100, 1, false},
                        Case{"on demand", 2, 2, true}}) {
    SCOPED_TRACE(c.what);
    ThrowingFeed feed(items_of(Dataset::get().list()), c.per_batch, c.throw_on, c.on_demand);
    std::atomic<std::uint64_t> done{0};
    const StrategyContext ctx = context_for(feed, workers, done);
    try {
      strategy_info(strategy).run(ctx);
      ADD_FAILURE() << "no exception reached the caller";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "feed broke on purpose");
    }
  }
}

TEST_P(EveryStrategy, ThrowingImageWorkReachesTheCaller) {
  const auto& [strategy, workers] = GetParam();
  // The third image's work throws a non-image exception (on a worker thread, inside an OpenMP
  // region, or in the parent of a worker process): it must reach this thread, not terminate.
  arm_test_failure(TestFailureSite::kImage, 2);
  StaticFeed feed(items_of(Dataset::get().list()));
  std::atomic<std::uint64_t> done{0};
  const StrategyContext ctx = context_for(feed, workers, done);
  std::string caught;
  try {
    strategy_info(strategy).run(ctx);
  } catch (const std::runtime_error& e) {
    caught = e.what();
  }
  disarm_test_failure();
  EXPECT_NE(caught.find("injected test failure in the image work"), std::string::npos) << caught;
}

INSTANTIATE_TEST_SUITE_P(Table, EveryStrategy, ::testing::ValuesIn(all_params()), name);

std::set<int> fds_listed_in(const fs::path& file) {
  std::set<int> fds;
  std::ifstream in(file);
  for (int fd = 0; in >> fd;)
    fds.insert(fd);
  return fds;
}

TEST(Processes, WorkersInheritOnlyTheirProtocolDescriptors) {
  // Stand-ins for descriptors another library (MPI's sockets) opened without O_CLOEXEC: one
  // anywhere, and where they could pass for protocol descriptors 5 and 6 under --ipc pipe.
  std::vector<int> strays = {::open("/dev/null", O_RDONLY)};
  for (const int at : {kShmInputFd, kShmOutputFd}) {
    if (::fcntl(at, F_GETFD) < 0) strays.push_back(::dup2(strays.front(), at));
  }
  for (const int fd : strays)
    ASSERT_GE(fd, 0);
  const char* paths[] = {"closefrom", "fallback"};
  for (const char* path : paths) {
    for (const Ipc ipc : {Ipc::kPipe, Ipc::kShm}) {
      SCOPED_TRACE(std::string(path) + (ipc == Ipc::kShm ? " shm" : " pipe"));
      TempDir lists;
      ::setenv("GRAYBENCH_TEST_WORKER_FD_LIST", lists.path().c_str(), 1);
      if (std::string(path) == "fallback") ::setenv("GRAYBENCH_TEST_SPAWN_FALLBACK", "1", 1);
      const Outcome o = run(Strategy::kProcesses, 2, items_of(Dataset::get().list()), "", ipc);
      ::unsetenv("GRAYBENCH_TEST_SPAWN_FALLBACK");
      ::unsetenv("GRAYBENCH_TEST_WORKER_FD_LIST");
      EXPECT_EQ(o.checksums, reference_checksums());
      std::set<int> expected = {0, 1, 2, kTaskFd, kResultFd};
      if (ipc == Ipc::kShm) expected.insert({kShmInputFd, kShmOutputFd});
      int workers = 0;
      for (const auto& e : fs::directory_iterator(lists.path())) {
        ++workers;
        EXPECT_EQ(fds_listed_in(e.path()), expected) << e.path();
      }
      EXPECT_EQ(workers, 2);
    }
  }
  for (const int fd : strays)
    ::close(fd);
}

TEST(Processes, SharedMemoryIpcMatchesPipe) {
  const auto& list = Dataset::get().list();
  for (bool memory : {false, true}) {
    const Outcome pipe = run(Strategy::kProcesses, 2, items_of(list, memory), "", Ipc::kPipe);
    const Outcome shm = run(Strategy::kProcesses, 2, items_of(list, memory), "", Ipc::kShm);
    EXPECT_EQ(pipe.checksums, shm.checksums);
    std::uint64_t pixels = 0, pipe_bytes = 0, shm_bytes = 0;
    for (const auto& r : pipe.out.records) {
      pixels += static_cast<std::uint64_t>(r.width) * r.height;
      pipe_bytes += r.ipc_bytes;
    }
    for (const auto& r : shm.out.records)
      shm_bytes += r.ipc_bytes;
    if (memory) {
      EXPECT_GE(pipe_bytes, 2 * pixels);  // the decoded image went out, the gray came back
    } else {
      EXPECT_EQ(pipe_bytes, 0u);  // files mode: workers return records, no pixels
    }
    EXPECT_EQ(pipe_bytes, shm_bytes);
    EXPECT_EQ(pipe.out.attrs.str("ipc"), "pipe");
    EXPECT_EQ(shm.out.attrs.str("ipc"), "shm");
  }
}

TEST(Processes, DeadWorkersAreDetectedAndReplaced) {
  ::setenv("GRAYBENCH_TEST_WORKER_DIE_AFTER", "2", 1);
  const Outcome o = run(Strategy::kProcesses, 2, items_of(Dataset::get().list()));
  ::unsetenv("GRAYBENCH_TEST_WORKER_DIE_AFTER");
  // Every worker dies (SIGKILL) on its third task and is replaced; the image it held is retried
  // once on the fresh worker (which converts it as its first task), every image has exactly one
  // row, and only images that ended two workers (or found none left) are lost.
  const std::size_t n = Dataset::get().list().files.size();
  ASSERT_EQ(o.out.records.size(), n);
  std::set<std::uint64_t> images;
  int retried_ok = 0;
  for (const auto& r : o.out.records) {
    images.insert(r.image);
    if (r.status == ImageStatus::kOk) {
      retried_ok += r.attempts == 2;
      EXPECT_EQ(r.checksum, reference_checksums().at(r.image));
    } else {
      EXPECT_EQ(r.status, ImageStatus::kWorkerLost);
      EXPECT_NE(r.error.find("killed by signal 9"), std::string::npos) << r.error;
    }
  }
  EXPECT_EQ(images.size(), n);
  EXPECT_GT(retried_ok, 0);
  EXPECT_GT(o.out.attrs.integer("worker_retries"), 0);
  EXPECT_EQ(o.out.attrs.integer("worker_respawns"), 4);  // twice the pool size, all used
}

TEST(Processes, RespawnsAreBoundedThenImagesAreLost) {
  ::setenv("GRAYBENCH_TEST_WORKER_DIE_AFTER", "0", 1);
  const Outcome o = run(Strategy::kProcesses, 2, items_of(Dataset::get().list()));
  ::unsetenv("GRAYBENCH_TEST_WORKER_DIE_AFTER");
  ASSERT_EQ(o.out.records.size(), Dataset::get().list().files.size());
  // 2 workers + 4 replacements, each killed by its first task: 6 attempts in all (an image is
  // tried at most twice), then no worker is left for the rest.
  int attempts = 0;
  for (const auto& r : o.out.records) {
    EXPECT_EQ(r.status, ImageStatus::kWorkerLost);
    EXPECT_LE(r.attempts, 2);
    attempts += r.attempts;
  }
  EXPECT_EQ(o.out.attrs.integer("worker_respawns"), 4);  // twice the pool size
  EXPECT_EQ(attempts, 6);
}

TEST(Processes, UnstartableWorkersLoseEveryImageButReturn) {
  StaticFeed feed(items_of(Dataset::get().list()));
  StrategyContext ctx;
  ctx.feed = &feed;
  ctx.workers = 2;
  ctx.worker_exe = "/bin/false";
  ctx.origin = Clock::now();
  const auto out = run_processes(ctx);
  ASSERT_EQ(out.records.size(), Dataset::get().list().files.size());
  for (const auto& r : out.records)
    EXPECT_EQ(r.status, ImageStatus::kWorkerLost);
}

TEST(Gil, OneHolderAtATimeAndForcedSwitches) {
  Gil gil(std::chrono::microseconds(200));
  std::atomic<int> holders{0};
  std::atomic<int> max_holders{0};
  std::atomic<int> finished{0};
  std::latch start(2);
  auto body = [&] {
    start.arrive_and_wait();  // both threads contend from the start, however slow their creation
    for (int round = 0; round < 5; ++round) {
      GilSection hold(&gil);
      const auto before = gil.switches();
      // Hold until the lock has been handed over to the other thread (which waits for it), or
      // that thread is done: a state to wait for, not a time. The deadline only bounds a bug.
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (gil.switches() == before && finished.load() == 0 &&
             std::chrono::steady_clock::now() < deadline) {
        const int h = ++holders;
        int m = max_holders.load();
        while (h > m && !max_holders.compare_exchange_weak(m, h)) {
        }
        --holders;
        gil.maybe_yield();
      }
    }
    ++finished;
  };
  std::thread a(body), b(body);
  a.join();
  b.join();
  EXPECT_EQ(max_holders.load(), 1);
  // Every round of the thread that finishes first ends in a hand-over.
  EXPECT_GE(gil.switches(), 5u);

  Gil alone(std::chrono::microseconds(1));
  {
    GilSection hold(&alone);
    for (int i = 0; i < 1000; ++i)
      alone.maybe_yield();
  }
  EXPECT_EQ(alone.switches(), 0u);  // nobody waiting: the holder keeps it
}

TEST(StrategyTable, NamesAndParsing) {
  EXPECT_EQ(strategy_table().size(), 5u);
  for (const auto& info : strategy_table()) {
    EXPECT_EQ(parse_enum<Strategy>(info.name), info.id);
    EXPECT_EQ(strategy_info(info.id).name, info.name);
  }
  EXPECT_FALSE(parse_enum<Strategy>("fork"));
  EXPECT_EQ(to_string(*parse_omp_schedule("guided,4")), "guided,4");
  EXPECT_EQ(to_string(*parse_omp_schedule("dynamic")), "dynamic,1");
  EXPECT_EQ(to_string(*parse_omp_schedule("static")), "static");
  EXPECT_FALSE(parse_omp_schedule("static,0"));
  EXPECT_FALSE(parse_omp_schedule("auto"));
  EXPECT_FALSE(parse_omp_schedule("dynamic,x"));
  EXPECT_EQ(parse_enum<Ipc>("shm"), Ipc::kShm);
  EXPECT_FALSE(parse_enum<Ipc>("socket"));
}

}  // namespace
}  // namespace graybench
