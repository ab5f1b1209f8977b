#include "support/process.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

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
pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env,
            const std::string& out_path, const std::string& err_path) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);

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

  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, cargv[0], &fa, nullptr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("spawn " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

ProcResult reap(pid_t pid, const std::string& out_path, const std::string& err_path) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  ProcResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  return r;
}
}  // namespace

ProcResult run_process(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  TempDir io;
  const std::string out_path = (io / "out").string(), err_path = (io / "err").string();
  return reap(spawn(argv, env, out_path, err_path), out_path, err_path);
}

Child::Child(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  std::string tmpl = (fs::temp_directory_path() / "graybench-child-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  io_ = tmpl;
  pid_ = spawn(argv, env, (io_ / "out").string(), (io_ / "err").string());
}

Child::~Child() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
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

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "graybench-test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

}  // namespace graybench::test
