#include "support/process.hpp"

#include "io/generator.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace graybench::test {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

namespace {
void check(int rc, const char* what) {
  if (rc != 0) throw std::runtime_error(std::string(what) + ": " + std::strerror(rc));
}

pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env,
            const std::string& out_path, const std::string& err_path) {
  posix_spawn_file_actions_t fa;
  check(posix_spawn_file_actions_init(&fa), "posix_spawn_file_actions_init");
  check(posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0), "addopen stdin");
  check(posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                         0644),
        "addopen stdout");
  check(posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                         0644),
        "addopen stderr");

  std::vector<std::string> envs;
  for (char** e = environ; *e; ++e)
    envs.emplace_back(*e);
  envs.insert(envs.end(), env.begin(), env.end());
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv)
    cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const auto& e : envs)
    cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);

  // Its own process group, so a timeout can kill everything it started (mpirun's ranks too).
  posix_spawnattr_t attr;
  check(posix_spawnattr_init(&attr), "posix_spawnattr_init");
  check(posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP), "posix_spawnattr_setflags");
  check(posix_spawnattr_setpgroup(&attr, 0), "posix_spawnattr_setpgroup");

  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, cargv[0], &fa, &attr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw std::runtime_error("spawn " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

ProcResult result_of(int status, const std::string& out_path, const std::string& err_path) {
  ProcResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  return r;
}

/// Polls for the exit of `pid` for at most `limit` (a bounded wait on the outcome, not a sleep
/// standing in for one); on timeout kills its process group and reaps it.
std::optional<ProcResult> reap_within(pid_t pid, std::chrono::milliseconds limit,
                                      const std::string& out_path, const std::string& err_path) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  for (;;) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return result_of(status, out_path, err_path);
    if (r < 0 && errno != EINTR) throw std::runtime_error("waitpid failed");
    if (std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(-pid, SIGKILL);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return std::nullopt;
}

ProcResult reap(pid_t pid, const std::string& out_path, const std::string& err_path) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error("waitpid failed");
  }
  return result_of(status, out_path, err_path);
}
}  // namespace

ProcResult run_process(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  TempDir io;
  const std::string out_path = (io / "out").string(), err_path = (io / "err").string();
  return reap(spawn(argv, env, out_path, err_path), out_path, err_path);
}

std::optional<ProcResult> run_process_within(std::chrono::milliseconds limit,
                                             const std::vector<std::string>& argv,
                                             const std::vector<std::string>& env) {
  TempDir io;
  const std::string out_path = (io / "out").string(), err_path = (io / "err").string();
  return reap_within(spawn(argv, env, out_path, err_path), limit, out_path, err_path);
}

Child::Child(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  std::string tmpl = (fs::temp_directory_path() / "graybench-child-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  io_ = tmpl;
  pid_ = spawn(argv, env, (io_ / "out").string(), (io_ / "err").string());
}

Child::~Child() {
  if (pid_ > 0) {
    ::kill(-pid_, SIGKILL);
    wait();
  }
  std::error_code ec;
  fs::remove_all(io_, ec);
}

void Child::signal(int sig) const {
  ::kill(pid_, sig);
}

ProcResult Child::wait() {
  ProcResult r = reap(pid_, (io_ / "out").string(), (io_ / "err").string());
  pid_ = -1;
  return r;
}

std::optional<ProcResult> Child::wait_within(std::chrono::milliseconds limit) {
  auto r = reap_within(pid_, limit, (io_ / "out").string(), (io_ / "err").string());
  pid_ = -1;
  return r;
}

bool Child::wait_for_stdout(const std::string& text, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (slurp(io_ / "out").find(text) != std::string::npos) return true;
    siginfo_t info{};
    // WNOWAIT: look without reaping; wait() still collects the status.
    if (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid_) {
      return false;  // exited first
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "graybench-test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

int count_of(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

void make_small_set(const std::filesystem::path& dir, int count, std::uint64_t seed) {
  GenOptions o;
  o.count = count;
  o.seed = seed;
  o.sizes = {{48, 32}, {31, 17}};
  generate_dataset(dir, o);
}

}  // namespace graybench::test
