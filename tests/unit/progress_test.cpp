#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "app/progress.hpp"

namespace graybench {
namespace {

TEST(Progress, LineShowsDoneTotalRateAndEta) {
  EXPECT_EQ(Progress::format("threads w=2 #0", 30, 120, 3.0),
            "threads w=2 #0: 30/120 images (rank 0), 10.0 images/s, ETA 9 s");
  EXPECT_EQ(Progress::format("x", 0, 10, 1.5), "x: 0/10 images (rank 0), 0.0 images/s, ETA ?");
}

TEST(Progress, DynamicShareHasNoTotal) {
  EXPECT_EQ(Progress::format("pool w=4 #1", 7, 0, 2.0),
            "pool w=4 #1: 7 images done (rank 0), 3.5 images/s");
}

/// Points this process's stderr at `fd` for the scope's lifetime.
class StderrTo {
 public:
  explicit StderrTo(int fd) : saved_(::dup(STDERR_FILENO)) {
    std::fflush(stderr);
    ::dup2(fd, STDERR_FILENO);
  }
  ~StderrTo() {
    std::fflush(stderr);
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
  }
  StderrTo(const StderrTo&) = delete;
  StderrTo& operator=(const StderrTo&) = delete;

 private:
  int saved_;
};

TEST(Progress, DrawsOnATerminalAndErasesAtTheEnd) {
  // A pseudo-terminal stands in for the user's: Progress draws only where isatty() holds.
  const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  ASSERT_GE(master, 0);
  ASSERT_EQ(::grantpt(master), 0);
  ASSERT_EQ(::unlockpt(master), 0);
  const int slave = ::open(::ptsname(master), O_RDWR | O_NOCTTY);
  ASSERT_GE(slave, 0);
  std::atomic<std::uint64_t> done{3};
  std::string seen;
  {
    StderrTo redirect(slave);
    // Started 5 s ago: past the one-second delay, so the first redraw shows the line.
    Progress p(true, "pool w=2 #0", &done, 10, Clock::now() - std::chrono::seconds(5));
    // Readiness, not a sleep: read the terminal until the line is there (bounded by a deadline).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (seen.find("images/s") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
      pollfd pfd{master, POLLIN, 0};
      if (::poll(&pfd, 1, 100) <= 0) continue;
      char buf[512];
      const ssize_t n = ::read(master, buf, sizeof buf);
      if (n > 0) seen.append(buf, static_cast<std::size_t>(n));
    }
  }
  EXPECT_NE(seen.find("pool w=2 #0: 3/10 images (rank 0)"), std::string::npos) << seen;
  // Destruction erases the line: carriage return and erase-line are the last bytes written.
  pollfd pfd{master, POLLIN, 0};
  std::string tail;
  while (::poll(&pfd, 1, 1000) > 0) {
    char buf[512];
    const ssize_t n = ::read(master, buf, sizeof buf);
    if (n <= 0) break;
    tail.append(buf, static_cast<std::size_t>(n));
    if (tail.size() >= 4 && tail.compare(tail.size() - 4, 4, "\r\033[K") == 0) break;
  }
  const std::string all = seen + tail;
  ASSERT_GE(all.size(), 4u);
  EXPECT_EQ(all.substr(all.size() - 4), "\r\033[K");
  ::close(slave);
  ::close(master);
}

TEST(Progress, SilentWhenDisabledOrNotATerminal) {
  // stderr on a regular file is not a terminal: even enabled, nothing may be drawn. Nothing can
  // signal an absence, so the test gives the redraw loop (every 250 ms) two chances to draw.
  char path[] = "/tmp/graybench-progress-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  std::atomic<std::uint64_t> done{3};
  {
    StderrTo redirect(fd);
    Progress enabled(true, "x", &done, 10, Clock::now() - std::chrono::seconds(5));
    Progress disabled(false, "y", &done, 10, Clock::now() - std::chrono::seconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
  }
  struct stat st {};
  ASSERT_EQ(::fstat(fd, &st), 0);
  EXPECT_EQ(st.st_size, 0);
  ::close(fd);
  ::unlink(path);
}

}  // namespace
}  // namespace graybench
