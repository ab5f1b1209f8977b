// The child side of the `processes` strategy: `graybench --worker-mode key=value ...`.
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>

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

int worker_main(const std::vector<std::string>& args) {
  try {
    std::map<std::string, std::string> kv;
    for (const auto& a : args) {
      const auto eq = a.find('=');
      if (eq != std::string::npos) kv[a.substr(0, eq)] = a.substr(eq + 1);
    }
    // The parent decides when to stop (a job's SIGTERM or a terminal's SIGINT reaches the whole
    // process group): a worker finishes its task and leaves when its task pipe closes.
    for (const int sig : {SIGTERM, SIGINT}) {
      if (std::signal(sig, SIG_IGN) == SIG_ERR) throw_errno("signal(" + std::to_string(sig) + ")");
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
    const long die_after = die_env ? std::atol(die_env) : -1;
    long tasks = 0;

    std::vector<std::uint8_t> frame, gray;
    while (recv_frame(kTaskFd, frame)) {
      if (die_after >= 0 && tasks++ >= die_after) ::raise(SIGKILL);
      WireReader r(frame);
      WorkItem item;
      get(r, item);
      const auto input = static_cast<Payload>(r.get<std::uint8_t>());
      if (input != Payload::kNone) {
        Image img;
        img.width = r.get<std::int32_t>();
        img.height = r.get<std::int32_t>();
        img.channels = r.get<std::int32_t>();
        img.bit_depth = r.get<std::int32_t>();
        if (input == Payload::kInline) {
          img.pixels = r.get_bytes();
        } else {
          const auto view = shm_in.read(r.get<std::uint64_t>());
          img.pixels.assign(view.begin(), view.end());
        }
        item.decoded = std::move(img);
      }
      gray.clear();
      ImageRecord rec = process_image(item, work, origin, &gray);
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
