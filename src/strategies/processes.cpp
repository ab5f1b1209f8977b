// `processes`: N worker processes (the analogue of multiprocessing.Pool / ProcessPoolExecutor).
// An initialised MPI process must never fork(): we posix_spawn our own binary in --worker-mode,
// which does not touch MPI, and feed it one task at a time over a pipe. A child whose result
// pipe reaches end of file has died: its task becomes a worker_lost row and the rest go on.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <iostream>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "core/cancel.hpp"
#include "core/errors.hpp"
#include "core/fault_injection.hpp"
#include "core/posix.hpp"
#include "core/wire.hpp"
#include "kernel/checksum.hpp"
#include "strategies/shm.hpp"
#include "strategies/strategy.hpp"
#include "strategies/worker_protocol.hpp"

extern char** environ;

namespace graybench {

namespace {

struct InFlight {
  WorkItem item;
  double ipc_send_s = 0;
  std::uint64_t ipc_send_bytes = 0;
};

struct Worker {
  int id = 0;
  pid_t pid = -1;
  Fd tasks;    // parent writes
  Fd results;  // parent reads
  SharedBuffer shm_in, shm_out;
  std::optional<InFlight> busy;
  bool alive = true;
  std::string cpus;
};

std::string describe_exit(int status) {
  if (WIFSIGNALED(status))
    return std::string("killed by signal ") + std::to_string(WTERMSIG(status));
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  return "ended";
}

/// Whether the child's stray descriptors are closed by posix_spawn_file_actions_addclosefrom_np
/// (glibc >= 2.34, detected at configure time) or by marking them close-on-exec first. The
/// test-only GRAYBENCH_TEST_SPAWN_FALLBACK=1 forces the fallback, so one build tests both.
bool use_closefrom() {
#if GRAYBENCH_HAVE_ADDCLOSEFROM
  const char* forced = std::getenv("GRAYBENCH_TEST_SPAWN_FALLBACK");
  return forced == nullptr || std::string_view(forced) != "1";
#else
  return false;
#endif
}

Worker spawn_worker(const StrategyContext& ctx, int id) {
  Worker w;
  w.id = id;
  Pipe tasks = Pipe::create(), results = Pipe::create();
  const bool shm = ctx.ipc == Ipc::kShm;
  if (shm) {
    w.shm_in = SharedBuffer::create("graybench-in");
    w.shm_out = SharedBuffer::create("graybench-out");
  }
  std::vector<std::string> args = {
      ctx.worker_exe,
      "--worker-mode",
      "id=" + std::to_string(id),
      "origin_ns=" + std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        ctx.origin.time_since_epoch())
                                        .count()),
      "ipc=" + std::string(to_string(ctx.ipc)),
      "kernel_repeat=" + std::to_string(ctx.work.kernel_repeat),
      "gil_interval_ns=" + std::to_string(ctx.gil_interval.count()),
      "output_dir=" + ctx.work.output_dir,
      "decoder=" + std::string(to_string(ctx.work.decoder)),
      "png_level=" + std::to_string(ctx.work.png_level),
  };
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);

  // The child's descriptors are exactly 0-2 and the protocol's (kTaskFd...): dup2 actions put
  // ours there, and everything else (MPI's sockets included) is closed at exec.
  const int last_fd = shm ? kShmOutputFd : kResultFd;
  // Sources are first copied above every target, so no dup2 overwrites a source still needed,
  // and none is a no-op dup2(fd, fd) that would leave the target close-on-exec.
  std::vector<std::pair<Fd, int>> moves;  // (source copy, target)
  auto move_to = [&](int fd, int target) {
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, last_fd + 1);
    if (copy < 0) throw_errno("fcntl(F_DUPFD_CLOEXEC) for worker " + std::to_string(id));
    moves.emplace_back(Fd(copy), target);
  };
  move_to(tasks.read.get(), kTaskFd);
  move_to(results.write.get(), kResultFd);
  if (shm) {
    move_to(w.shm_in.fd(), kShmInputFd);
    move_to(w.shm_out.fd(), kShmOutputFd);
  }

  auto check = [&](int rc, const char* what) {
    if (rc != 0) throw std::system_error(rc, std::generic_category(), what);
  };
  posix_spawn_file_actions_t fa;
  check(posix_spawn_file_actions_init(&fa), "posix_spawn_file_actions_init");
  const struct Destroy {
    posix_spawn_file_actions_t* fa;
    ~Destroy() { posix_spawn_file_actions_destroy(fa); }
  } destroy{&fa};
  for (const auto& [copy, target] : moves)
    check(posix_spawn_file_actions_adddup2(&fa, copy.get(), target),
          "posix_spawn_file_actions_adddup2");
  if (use_closefrom()) {
#if GRAYBENCH_HAVE_ADDCLOSEFROM
    check(posix_spawn_file_actions_addclosefrom_np(&fa, last_fd + 1),
          "posix_spawn_file_actions_addclosefrom_np");
#endif
  } else {
    // Without closefrom (glibc < 2.34): our own descriptors are all O_CLOEXEC; mark everyone
    // else's close-on-exec too, below the targets included (dup2 clears the flag on targets).
    mark_cloexec_from(kTaskFd);
  }
  const int rc = posix_spawn(&w.pid, ctx.worker_exe.c_str(), &fa, nullptr, argv.data(), environ);
  if (rc != 0) {
    throw std::runtime_error("cannot spawn worker " + ctx.worker_exe + ": " + std::strerror(rc));
  }
  w.tasks = std::move(tasks.write);
  w.results = std::move(results.read);
  return w;
}

std::string reap(Worker& w);

/// Spawns worker `id` into `w` and waits for its hello; false (and reaped) if it dies first.
bool start_worker(const StrategyContext& ctx, Worker& w, int id) {
  w = spawn_worker(ctx, id);
  std::vector<std::uint8_t> frame;
  bool ok = false;
  try {
    ok = recv_frame(w.results.get(), frame);
  } catch (const std::exception&) {
    ::kill(w.pid, SIGKILL);
  }
  if (!ok) {
    std::cerr << "graybench: worker " << id << " failed to start: " << reap(w) << "\n";
    return false;
  }
  WireReader r(frame);
  w.cpus = r.get_string();
  return true;
}

/// Reaps a dead or dying worker and says why it ended.
std::string reap(Worker& w) {
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(w.pid, &status, 0);
  } while (r < 0 && errno == EINTR);
  w.alive = false;
  w.pid = -1;
  return r > 0 ? describe_exit(status) : "lost";
}

ImageRecord lost_record(const WorkItem& item, const Worker& w, const std::string& why) {
  ImageRecord rec = unprocessed_record(item, ImageStatus::kWorkerLost,
                                       "worker " + std::to_string(w.id) + " " + why);
  rec.worker = w.id;
  return rec;
}

/// Sends one task; false if the worker is gone (EPIPE).
bool send_task(const StrategyContext& ctx, Worker& w, WorkItem& item) {
  WireWriter msg;
  put(msg, item);
  InFlight f;
  const auto t0 = Clock::now();
  // Memory mode ships the decoded image to the worker: the analogue of pickling the argument.
  if (!item.decoded) {
    msg.put(Payload::kNone);
  } else {
    const Image& img = *item.decoded;
    msg.put(ctx.ipc == Ipc::kShm ? Payload::kShm : Payload::kInline);
    for (int v : {img.width, img.height, img.channels, img.bit_depth})
      msg.put<std::int32_t>(v);
    if (ctx.ipc == Ipc::kShm) {
      w.shm_in.write(img.pixels);
      msg.put<std::uint64_t>(img.pixels.size());
    } else {
      msg.put_bytes(img.pixels);
    }
    f.ipc_send_bytes = img.pixels.size();
  }
  try {
    send_frame(w.tasks.get(), msg.take());
  } catch (const std::system_error& e) {
    if (e.code().value() == EPIPE) return false;
    throw;
  }
  f.ipc_send_s = item.decoded ? seconds_between(t0, Clock::now()) : 0.0;
  item.decoded.reset();
  f.item = std::move(item);
  w.busy = std::move(f);
  return true;
}

/// Reads one result frame from `w` into a record; nullopt when the worker died.
std::optional<ImageRecord> receive(const StrategyContext& ctx, Worker& w) {
  std::vector<std::uint8_t> frame;
  if (!recv_frame(w.results.get(), frame)) return std::nullopt;
  WireReader r(frame);
  ImageRecord rec;
  get(r, rec);
  const auto pixels = static_cast<Payload>(r.get<std::uint8_t>());
  std::vector<std::uint8_t> inline_px;
  std::span<const std::uint8_t> px;
  if (pixels == Payload::kInline) {
    inline_px = r.get_bytes();
    px = inline_px;
  } else if (pixels == Payload::kShm) {
    px = w.shm_out.read(r.get<std::uint64_t>());
  }
  const auto send_ns = r.get<std::int64_t>();
  // The parent takes delivery of the pixels: verify them against the worker's checksum so a
  // transport fault can never pass as a result.
  if (rec.status == ImageStatus::kOk && checksum64(px) != rec.checksum) {
    rec.status = ImageStatus::kInternalError;
    rec.error = "pixels corrupted between worker and parent";
    rec.checksum = 0;
  }
  const InFlight& f = *w.busy;
  rec.ipc_bytes = f.ipc_send_bytes + px.size();
  rec.ipc_s = f.ipc_send_s + std::max(0.0, (monotonic_ns() - send_ns) / 1e9);
  rec.queue_wait_s = std::max(0.0, rec.t_start - f.item.available_s);
  (void)ctx;
  return rec;
}

/// When an exception leaves run_processes (the feed failed, a spawn failed), kills and reaps the
/// live workers, so none outlives the failure still converting and none is left a zombie.
class KillOnUnwind {
 public:
  explicit KillOnUnwind(std::vector<Worker>& workers) : workers_(workers) {}
  KillOnUnwind(const KillOnUnwind&) = delete;
  KillOnUnwind& operator=(const KillOnUnwind&) = delete;
  ~KillOnUnwind() {
    if (std::uncaught_exceptions() <= unwinding_) return;
    for (auto& w : workers_) {
      if (w.pid <= 0) continue;
      ::kill(w.pid, SIGKILL);
      reap(w);
    }
  }

 private:
  std::vector<Worker>& workers_;
  int unwinding_ = std::uncaught_exceptions();
};

}  // namespace

StrategyOutcome run_processes(const StrategyContext& ctx) {
  if (ctx.worker_exe.empty()) throw std::logic_error("processes: no worker executable");
  // A worker that dies must not kill us when we write its task pipe.
  if (std::signal(SIGPIPE, SIG_IGN) == SIG_ERR) throw_errno("signal(SIGPIPE, SIG_IGN)");
  StrategyOutcome out;

  // A dead worker is replaced, as multiprocessing.Pool does, up to twice the pool size per run;
  // the image it held is recorded as worker_lost.
  int respawns_left = 2 * ctx.workers;
  std::int64_t respawns = 0;
  auto replace = [&](Worker& w) {
    while (!w.alive && respawns_left > 0) {
      --respawns_left;
      ++respawns;
      start_worker(ctx, w, w.id);
    }
  };

  const auto t_setup = Clock::now();
  std::vector<Worker> workers(static_cast<std::size_t>(ctx.workers));
  KillOnUnwind reaper(workers);
  // Start-up ends when every worker has said hello (it runs, and knows its CPUs).
  for (int i = 0; i < ctx.workers; ++i) {
    if (!start_worker(ctx, workers[i], i)) replace(workers[i]);
  }
  out.setup_s = seconds_between(t_setup, Clock::now());

  std::deque<WorkItem> pending;
  bool feed_done = false;
  auto refill = [&] {
    if (feed_done || !pending.empty()) return;
    auto batch = ctx.feed->next_batch();
    if (batch.empty()) {
      feed_done = true;
      return;
    }
    const double now = seconds_between(ctx.origin, Clock::now());
    for (auto& item : batch) {
      item.available_s = now;
      pending.push_back(std::move(item));
    }
  };
  auto alive = [&] {
    return std::any_of(workers.begin(), workers.end(), [](const Worker& w) { return w.alive; });
  };
  auto finish = [&](ImageRecord rec) {
    if (ctx.done && rec.status != ImageStatus::kNotProcessed) {
      ctx.done->fetch_add(1, std::memory_order_relaxed);
    }
    out.records.push_back(std::move(rec));
  };

  for (;;) {
    refill();
    // Hand a task to every idle live worker.
    for (auto& w : workers) {
      while (w.alive && !w.busy && !pending.empty() && !stop_requested()) {
        WorkItem item = std::move(pending.front());
        pending.pop_front();
        if (item.preload_status != ImageStatus::kOk) {
          // Memory mode already knows this image is bad: its row needs no worker.
          ImageRecord rec = process_image(item, ctx.work, ctx.origin);
          rec.worker = w.id;
          finish(std::move(rec));
          continue;
        }
        test_failure_point(TestFailureSite::kImage);
        if (send_task(ctx, w, item)) break;
        const std::string why = reap(w);
        std::cerr << "graybench: worker " << w.id << " " << why << "\n";
        pending.push_front(std::move(item));  // never started: another worker takes it
        replace(w);
      }
      refill();
    }
    const bool any_busy = std::any_of(workers.begin(), workers.end(),
                                      [](const Worker& w) { return w.busy.has_value(); });
    if (!any_busy) {
      if (stop_requested() || !alive()) {
        // Nothing more can run: record what is left.
        for (;;) {
          for (auto& item : pending) {
            finish(stop_requested()
                       ? unprocessed_record(item, ImageStatus::kNotProcessed, "run interrupted")
                       : unprocessed_record(item, ImageStatus::kWorkerLost, "no live worker left"));
          }
          pending.clear();
          refill();
          if (pending.empty()) break;
        }
        break;
      }
      if (pending.empty() && feed_done) break;
      continue;
    }

    std::vector<pollfd> fds;
    std::vector<Worker*> owners;
    for (auto& w : workers) {
      if (w.busy) {
        fds.push_back({w.results.get(), POLLIN, 0});
        owners.push_back(&w);
      }
    }
    const int n = ::poll(fds.data(), fds.size(), -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("poll worker pipes");
    }
    for (std::size_t k = 0; k < fds.size(); ++k) {
      if (fds[k].revents == 0) continue;
      Worker& w = *owners[k];
      std::optional<ImageRecord> rec;
      try {
        rec = receive(ctx, w);
      } catch (const std::exception& e) {
        // A torn or malformed frame: the worker died mid-write, or cannot be trusted any more.
        // Make sure it is gone before waiting for it.
        std::cerr << "graybench: worker " << w.id << ": " << e.what() << "\n";
        ::kill(w.pid, SIGKILL);
        rec.reset();
      }
      if (rec) {
        finish(std::move(*rec));
        w.busy.reset();
      } else {
        const std::string why = reap(w);
        std::cerr << "graybench: worker " << w.id << " died (" << why << ") while converting "
                  << w.busy->item.file.path << "\n";
        finish(lost_record(w.busy->item, w, "died (" + why + ")"));
        w.busy.reset();
        replace(w);
      }
    }
  }

  const auto t_teardown = Clock::now();
  std::vector<std::pair<int, std::string>> cpus;
  for (auto& w : workers) {
    w.tasks.reset();  // end of file: the worker exits
    if (w.pid > 0) reap(w);
    cpus.emplace_back(w.id, w.cpus);
  }
  out.teardown_s = seconds_between(t_teardown, Clock::now());
  out.worker_cpus = join_worker_cpus(std::move(cpus));
  out.attrs.set("ipc", std::string(to_string(ctx.ipc)));
  out.attrs.set("worker_respawns", respawns);
  return out;
}

}  // namespace graybench
