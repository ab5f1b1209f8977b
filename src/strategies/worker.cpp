// The child side of the `processes` strategy: `graybench --worker-mode key=value ...`.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>

#include "core/cancel.hpp"
#include "core/posix.hpp"
#include "core/wire.hpp"
#include "strategies/gil.hpp"
#include "strategies/pipeline.hpp"
#include "strategies/shm.hpp"
#include "strategies/worker_protocol.hpp"
#include "timing/metadata.hpp"

namespace graybench {

std::int64_t monotonic_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

void send_frame(int fd, const std::vector<std::uint8_t>& payload) {
  const std::uint64_t n = payload.size();
  write_fully(fd, &n, sizeof n);
  write_fully(fd, payload.data(), payload.size());
}

bool recv_frame(int fd, std::vector<std::uint8_t>& payload) {
  std::uint64_t n = 0;
  const std::size_t got = read_fully(fd, &n, sizeof n);
  if (got == 0) return false;
  if (got != sizeof n) throw std::runtime_error("worker protocol: truncated frame header");
  payload.resize(n);
  if (read_fully(fd, payload.data(), n) != n)
    throw std::runtime_error("worker protocol: truncated frame");
  return true;
}

namespace {
/// Test hooks, set in the environment by the reliability tests:
/// GRAYBENCH_TEST_WORKER_KILL=I:N  SIGKILL itself on image I in attempts 1..N;
/// GRAYBENCH_TEST_WORKER_STOP=I:N  SIGSTOP itself on image I in attempts 1..N, first writing
///                                 its pid to $GRAYBENCH_TEST_WORKER_STOP_FILE if set;
/// GRAYBENCH_TEST_FAULT_RANK=R     only in workers of MPI rank R (these and _DIE_AFTER).
struct TestFault {
  long kill_image = -1, kill_attempts = 0, stop_image = -1, stop_attempts = 0;
  std::string stop_file;

  static void parse(const char* env, long& image, long& attempts) {
    if (!env) return;
    char* end = nullptr;
    image = std::strtol(env, &end, 10);
    attempts = *end == ':' ? std::strtol(end + 1, nullptr, 10) : 1;
  }
  static bool on_this_rank() {
    const char* want = std::getenv("GRAYBENCH_TEST_FAULT_RANK");
    const char* rank = std::getenv("OMPI_COMM_WORLD_RANK");
    if (!rank) rank = std::getenv("PMIX_RANK");
    return !want || (rank && std::string(want) == rank);
  }
  static TestFault from_environment() {
    TestFault f;
    if (!on_this_rank()) return f;
    parse(std::getenv("GRAYBENCH_TEST_WORKER_KILL"), f.kill_image, f.kill_attempts);
    parse(std::getenv("GRAYBENCH_TEST_WORKER_STOP"), f.stop_image, f.stop_attempts);
    if (const char* p = std::getenv("GRAYBENCH_TEST_WORKER_STOP_FILE")) f.stop_file = p;
    return f;
  }
  void apply(std::uint64_t image, int attempt) const {
    const auto i = static_cast<long>(image);
    if (i == kill_image && attempt <= kill_attempts) ::raise(SIGKILL);
    if (i == stop_image && attempt <= stop_attempts) {
      if (!stop_file.empty()) {
        const std::string tmp = stop_file + ".tmp";
        if (std::FILE* f = std::fopen(tmp.c_str(), "w")) {
          std::fprintf(f, "%d\n", static_cast<int>(::getpid()));
          std::fclose(f);
          std::rename(tmp.c_str(), stop_file.c_str());
        }
      }
      ::raise(SIGSTOP);
    }
  }
};
}  // namespace

int worker_main(const std::vector<std::string>& args) {
  try {
    std::map<std::string, std::string> kv;
    for (const auto& a : args) {
      const auto eq = a.find('=');
      if (eq != std::string::npos) kv[a.substr(0, eq)] = a.substr(eq + 1);
    }
    // The parent decides when to stop (a job's SIGTERM or a terminal's SIGINT reaches the whole
    // process group): it sends SIGUSR1, on which the worker gives up its image (the kernel
    // checks between slices) and answers "not processed"; it leaves when its task pipe closes.
    for (const int sig : {SIGTERM, SIGINT}) {
      if (std::signal(sig, SIG_IGN) == SIG_ERR) throw_errno("signal(" + std::to_string(sig) + ")");
    }
    {
      struct sigaction sa {};
      sa.sa_handler = [](int) { request_stop(); };
      sigemptyset(&sa.sa_mask);
      sa.sa_flags = SA_RESTART;
      if (sigaction(SIGUSR1, &sa, nullptr) != 0) throw_errno("sigaction(SIGUSR1)");
    }
    // Test-only (tests of the spawn's descriptor hygiene): list what this worker inherited.
    if (const char* dir = std::getenv("GRAYBENCH_TEST_WORKER_FD_LIST")) {
      const std::vector<int> fds = open_fds();  // before the list's own file is open
      std::ofstream list(std::string(dir) + "/worker-" + std::to_string(::getpid()));
      for (const int fd : fds)
        list << fd << "\n";
    }
    const int id = std::stoi(kv.at("id"));
    const Clock::time_point origin{std::chrono::nanoseconds(std::stoll(kv.at("origin_ns")))};
    const bool shm = kv.at("ipc") == "shm";
    WorkOptions work;
    work.kernel_repeat = std::stoi(kv.at("kernel_repeat"));
    work.max_pixels = kv.count("max_pixels") ? std::stoull(kv.at("max_pixels")) : 0;
    work.output_dir = kv.count("output_dir") ? kv.at("output_dir") : "";
    work.decoder = parse_enum<Decoder>(kv.at("decoder")).value();
    work.png_level = std::stoi(kv.at("png_level"));
    const auto gil_ns = std::stoll(kv.at("gil_interval_ns"));
    // Each process has its own interpreter lock in Python: one per worker, never contended.
    std::unique_ptr<Gil> gil;
    if (gil_ns > 0) {
      gil = std::make_unique<Gil>(std::chrono::nanoseconds(gil_ns));
      work.gil = gil.get();
    }
    SharedBuffer shm_in, shm_out;
    if (shm) {
      shm_in = SharedBuffer(Fd(kShmInputFd));
      shm_out = SharedBuffer(Fd(kShmOutputFd));
    }

    WireWriter hello;
    hello.put_string(affinity_cpus());
    send_frame(kResultFd, hello.take());

    // Fault injection for tests of dead-worker handling: die (SIGKILL) on receiving task N+1.
    const char* die_env = std::getenv("GRAYBENCH_TEST_WORKER_DIE_AFTER");
    const long die_after = die_env && TestFault::on_this_rank() ? std::atol(die_env) : -1;
    long tasks = 0;
    const TestFault fault = TestFault::from_environment();

    std::vector<std::uint8_t> frame, gray;
    while (recv_frame(kTaskFd, frame)) {
      if (die_after >= 0 && tasks++ >= die_after) ::raise(SIGKILL);
      WireReader r(frame);
      const auto attempt = r.get<std::int32_t>();
      WorkItem item;
      get(r, item);
      fault.apply(item.index, attempt);
      const auto input = static_cast<Payload>(r.get<std::uint8_t>());
      if (input != Payload::kNone) {
        Image img;
        img.width = r.get<std::int32_t>();
        img.height = r.get<std::int32_t>();
        img.channels = r.get<std::int32_t>();
        img.bit_depth = r.get<std::int32_t>();
        if (input == Payload::kInline) {
          img.pixels = r.get_bytes<Bytes>();
        } else {
          const auto view = shm_in.read(r.get<std::uint64_t>());
          img.pixels.assign(view.begin(), view.end());
        }
        item.decoded = std::move(img);
      }
      gray.clear();
      // Files mode returns the record only, as the Python original's process workers return a
      // row; memory mode returns the converted image too (image in, image out: both ways are
      // the analogue of pickling).
      ImageRecord rec = process_image(item, work, origin, item.decoded ? &gray : nullptr);
      rec.worker = id;

      WireWriter w;
      put(w, rec);
      if (gray.empty()) {
        w.put(Payload::kNone);
      } else if (shm) {
        shm_out.write(gray);
        w.put(Payload::kShm);
        w.put<std::uint64_t>(gray.size());
      } else {
        w.put(Payload::kInline);
        w.put_bytes(gray);
      }
      w.put<std::int64_t>(monotonic_ns());
      send_frame(kResultFd, w.take());
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "graybench worker: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace graybench
