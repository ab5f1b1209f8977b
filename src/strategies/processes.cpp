// `processes`: N worker processes (the analogue of multiprocessing.Pool / ProcessPoolExecutor).
// An initialised MPI process must never fork(): we posix_spawn our own binary in --worker-mode,
// which does not touch MPI, and feed it one task at a time over a pipe. A child whose result
// pipe reaches end of file has died, and one that does not answer within a deadline derived
// from its image's size is killed: either way its task is retried once on a fresh worker, and
// an image that ends two workers becomes a worker_lost row naming how they ended.
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
#include "io/limits.hpp"
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
  int attempt = 1;
  Clock::time_point deadline;  ///< no answer by then: the worker is stuck or stopped
  double limit_s = 0;          ///< the deadline's length
  std::string earlier;         ///< how the worker of the previous attempt ended
  MemoryBudget::Lease lease;   ///< the rank's memory this image may use
};

/// An item waiting for a worker, with what the parent knows about it before any worker does.
struct Pending {
  WorkItem item;
  int attempt = 1;
  std::string earlier;  ///< how the worker of an earlier attempt ended
  std::optional<Dimensions> dims;
  bool probed = false;
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
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* abbrev = sigabbrev_np(sig);
    return "killed by signal " + std::to_string(sig) +
           (abbrev ? std::string(" (SIG") + abbrev + ")" : std::string());
  }
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
      "max_pixels=" + std::to_string(ctx.work.max_pixels),
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
    std::cerr << "graybench: worker " << id << " (" << ctx.worker_exe
              << ") failed to start: " << reap(w) << "\n";
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

/// Seconds a worker may take for an image before it counts as stuck: a base (60 s, or
/// $GRAYBENCH_WORKER_DEADLINE_S) plus generous per-pixel allowances for decoding and encoding
/// (1 us) and each kernel repeat (20 ns), so only a worker that stopped making progress hits it.
double deadline_s(const StrategyContext& ctx, const Pending& p) {
  static const double base = [] {
    const char* env = std::getenv("GRAYBENCH_WORKER_DEADLINE_S");
    const double v = env ? std::atof(env) : 0.0;
    return v > 0 ? v : 60.0;
  }();
  // Unknown dimensions: a generous guess from the file size (compressed 20:1).
  const double pixels =
      p.dims ? static_cast<double>(p.dims->pixels()) : 20.0 * static_cast<double>(p.item.file.size);
  return base + pixels * (1e-6 + 2e-8 * ctx.work.kernel_repeat);
}

/// Sends one task; false if the worker is gone (EPIPE).
bool send_task(const StrategyContext& ctx, Worker& w, WorkItem& item, int attempt) {
  WireWriter msg;
  msg.put<std::int32_t>(attempt);
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
  // Memory mode keeps the decoded image until the result is in: a retry needs it again.
  f.item = std::move(item);
  f.attempt = attempt;
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
  // Memory mode: the parent takes delivery of the pixels; verify them against the worker's
  // checksum so a transport fault can never pass as a result. (Files mode sends no pixels.)
  if (pixels != Payload::kNone && rec.status == ImageStatus::kOk &&
      checksum64(px) != rec.checksum) {
    rec.status = ImageStatus::kInternalError;
    rec.error = "pixels corrupted between worker and parent";
    rec.checksum = 0;
  }
  const InFlight& f = *w.busy;
  rec.ipc_bytes = f.ipc_send_bytes + px.size();
  rec.ipc_s = f.ipc_send_s + std::max(0.0, (monotonic_ns() - send_ns) / 1e9);
  rec.queue_wait_s = std::max(0.0, rec.t_start - f.item.available_s);
  rec.attempts = f.attempt;
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

  // A dead worker is replaced, as multiprocessing.Pool does, up to twice the pool size per run.
  int respawns_left = 2 * ctx.workers;
  std::int64_t respawns = 0, retries = 0, stuck = 0;
  auto replace = [&](Worker& w) {
    while (!w.alive && respawns_left > 0 && !stop_requested()) {
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

  std::deque<Pending> pending;
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
      Pending p;
      p.item = std::move(item);
      pending.push_back(std::move(p));
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
  // The parent reads the header itself: the memory an image may take and its deadline are
  // known before a worker gets it. In memory mode the decoded image says it.
  auto probe = [&](Pending& p) {
    if (p.probed) return;
    p.probed = true;
    if (p.item.decoded) {
      p.dims = Dimensions{static_cast<std::uint32_t>(p.item.decoded->width),
                          static_cast<std::uint32_t>(p.item.decoded->height)};
    } else {
      p.dims = probe_file_dimensions(p.item.file.path);
    }
  };
  // A worker that died or was killed holding an image: the image gets one more worker.
  auto worker_ended = [&](Worker& w, const std::string& why) {
    InFlight f = std::move(*w.busy);
    w.busy.reset();
    f.lease.release();
    std::cerr << "graybench: worker " << w.id << " " << why << " while converting "
              << f.item.file.path << (f.attempt < 2 ? ": retrying it on a fresh worker" : "")
              << "\n";
    if (f.attempt < 2 && !stop_requested()) {
      ++retries;
      Pending again;
      again.item = std::move(f.item);
      again.attempt = f.attempt + 1;
      again.earlier = "worker " + std::to_string(w.id) + " " + why;
      pending.push_front(std::move(again));
    } else {
      // The image ended every worker that took it: say how each ended.
      ImageRecord rec = lost_record(f.item, w, why);
      if (!f.earlier.empty()) rec.error = f.earlier + ", then " + rec.error;
      rec.attempts = f.attempt;
      finish(std::move(rec));
    }
    replace(w);
  };
  bool stopping = false;
  Clock::time_point stop_grace{};

  for (;;) {
    refill();
    // Hand a task to every idle live worker, as far as the rank's memory budget allows.
    bool held_back = false;
    for (auto& w : workers) {
      while (w.alive && !w.busy && !pending.empty() && !stop_requested() && !held_back) {
        Pending& next = pending.front();
        if (next.item.preload_status != ImageStatus::kOk) {
          // Memory mode already knows this image is bad: its row needs no worker.
          ImageRecord rec = process_image(next.item, ctx.work, ctx.origin);
          rec.worker = w.id;
          finish(std::move(rec));
          pending.pop_front();
          continue;
        }
        test_failure_point(TestFailureSite::kImage);
        probe(next);
        std::optional<MemoryBudget::Lease> lease;
        if (ctx.work.budget) {
          const bool too_large =
              next.dims && ctx.work.max_pixels && next.dims->pixels() > ctx.work.max_pixels;
          // Too large: the worker refuses it from the header, it needs no memory.
          const std::uint64_t cost =
              next.dims && !too_large ? image_memory_cost(next.dims->pixels()) : 0;
          lease = ctx.work.budget->try_acquire(cost);
          if (!lease) {
            // Wait for a busy worker to give memory back (try_acquire always succeeds when
            // none holds any).
            ctx.work.budget->record_wait();
            held_back = true;
            break;
          }
        }
        Pending p = std::move(pending.front());
        pending.pop_front();
        const double limit = deadline_s(ctx, p);
        if (send_task(ctx, w, p.item, p.attempt)) {
          w.busy->limit_s = limit;
          w.busy->earlier = std::move(p.earlier);
          w.busy->deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                std::chrono::duration<double>(limit));
          if (lease) w.busy->lease = std::move(*lease);
          break;
        }
        const std::string why = reap(w);
        std::cerr << "graybench: worker " << w.id << " " << why << "\n";
        pending.push_front(std::move(p));  // never started: another worker takes it
        replace(w);
      }
      if (!held_back) refill();
    }
    const bool any_busy = std::any_of(workers.begin(), workers.end(),
                                      [](const Worker& w) { return w.busy.has_value(); });
    if (!any_busy) {
      if (!stop_requested() && !alive() && ctx.feed->on_demand()) {
        // No worker left, but other ranks may have some: hand back what this rank holds and
        // draw no more, so the shared counter's remaining images go to them.
        out.gave_up = true;
        ctx.feed->leave();
        for (auto& p : pending)
          out.returned.push_back(std::move(p.item));
        pending.clear();
        std::cerr << "graybench: no worker process left on this rank: " << out.returned.size()
                  << " image(s) handed to the other ranks\n";
        break;
      }
      if (stop_requested() || !alive()) {
        // Nothing more can run: record what is left.
        for (;;) {
          for (auto& p : pending) {
            ImageRecord rec =
                stop_requested()
                    ? unprocessed_record(p.item, ImageStatus::kNotProcessed, "run interrupted")
                    : unprocessed_record(p.item, ImageStatus::kWorkerLost,
                                         p.earlier.empty() ? "no live worker left"
                                                           : "no live worker left to retry it (" +
                                                                 p.earlier + ")");
            rec.attempts = p.attempt - 1;
            finish(std::move(rec));
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

    const auto now = Clock::now();
    if (stop_requested() && !stopping) {
      // Workers ignore the job's signals while they work (a terminal's ^C reaches them too):
      // tell each busy one to give up its image, and wake it should it be stopped.
      stopping = true;
      stop_grace = now + std::chrono::milliseconds(500);
      for (auto& w : workers) {
        if (w.busy) {
          ::kill(w.pid, SIGUSR1);
          ::kill(w.pid, SIGCONT);
        }
      }
    }
    // Wake for the earliest deadline (or the end of the stop grace period).
    Clock::time_point wake = Clock::time_point::max();
    for (const auto& w : workers) {
      if (w.busy) wake = std::min(wake, w.busy->deadline);
    }
    if (stopping) wake = std::min(wake, stop_grace);
    const auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count();
    const int timeout = static_cast<int>(std::clamp<std::int64_t>(wait_ms + 1, 0, 1000));

    std::vector<pollfd> fds;
    std::vector<Worker*> owners;
    for (auto& w : workers) {
      if (w.busy) {
        fds.push_back({w.results.get(), POLLIN, 0});
        owners.push_back(&w);
      }
    }
    const int n = ::poll(fds.data(), fds.size(), timeout);
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
        worker_ended(w, "died (" + reap(w) + ")");
      }
    }
    // Stuck or stopped workers: killed, and their images retried like a death.
    const auto after = Clock::now();
    for (auto& w : workers) {
      if (!w.busy) continue;
      if (stopping && after >= stop_grace) {
        ::kill(w.pid, SIGKILL);
        reap(w);
        std::cerr << "graybench: worker " << w.id << " did not give up " << w.busy->item.file.path
                  << " when asked to stop: killed\n";
        ImageRecord rec =
            unprocessed_record(w.busy->item, ImageStatus::kNotProcessed, "run interrupted");
        rec.worker = w.id;
        rec.attempts = w.busy->attempt;
        finish(std::move(rec));
        w.busy.reset();
      } else if (!stopping && after >= w.busy->deadline) {
        ++stuck;
        const double allowed = w.busy->limit_s;
        ::kill(w.pid, SIGKILL);
        reap(w);
        char why[160];
        std::snprintf(why, sizeof why, "stopped answering (no result within the %.0f s deadline)",
                      allowed);
        worker_ended(w, why);
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
  out.attrs.set("worker_retries", retries);
  out.attrs.set("workers_stuck", stuck);
  return out;
}

}  // namespace graybench
