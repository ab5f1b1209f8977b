// graybench: parse -> run -> one catch -> exit code.
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <memory>

#include "app/job.hpp"
#include "app/versions.hpp"
#include "cli/config.hpp"
#include "core/allocator.hpp"
#include "core/cancel.hpp"
#include "core/fault_injection.hpp"
#include "core/posix.hpp"
#include "mpi/comm.hpp"
#include "strategies/worker_protocol.hpp"

namespace {

/// The fatal path of every rank: one line naming the rank and the cause, then the whole job ends.
/// Any exception out of a run lands here, on the rank's main thread (worker threads and OpenMP
/// regions hand theirs over), and nothing collective ran on the way: collective owners skip
/// their collective release while unwinding. MPI_Abort ends the other ranks wherever they wait.
/// Returns the exit code only when this is the job's one rank.
int fatal(const graybench::mpi::Comm& comm, std::string cause) {
  std::replace(cause.begin(), cause.end(), '\n', ' ');  // one line, whatever the cause says
  // One write(2) of the whole line: piecewise writes of unbuffered std::cerr were interleaved
  // with mpirun's MPI_ABORT banner, splitting the line in two.
  const std::string line =
      "graybench: fatal error on rank " + std::to_string(comm.rank()) + ": " + cause + "\n";
  try {
    std::cout.flush();
    graybench::write_fully(STDERR_FILENO, line.data(), line.size());
  } catch (const std::exception&) {  // stderr is gone: nowhere left to say it; end all the same
  }
  const int code = static_cast<int>(graybench::ExitCode::kFatal);
  if (comm.size() > 1) comm.abort(code);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace graybench;
  tune_allocator();  // before any thread: every image reuses the memory of the one before
  const std::vector<std::string> args(argv, argv + argc);
  // A worker process of the `processes` strategy: never initialises MPI.
  if (argc > 1 && args[1] == "--worker-mode") return worker_main(args);

  std::unique_ptr<mpi::Environment> env;
  try {
    env = std::make_unique<mpi::Environment>(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "graybench: " << e.what() << "\n";
    return static_cast<int>(ExitCode::kFatal);
  }
  const mpi::Comm comm = mpi::Comm::world();
  // SIGTERM (a Slurm time limit, scancel) or SIGINT ends the current run early; what was done is
  // saved as an incomplete run and the sweep stops.
  try {
    install_stop_handlers();
    arm_test_failure_from_environment(comm.rank());
    const ParseResult parsed = parse_command_line(args);
    if (parsed.action == ParseResult::Action::kVersion) {
      if (comm.rank() == 0) std::cout << version_text("graybench");
      return static_cast<int>(ExitCode::kOk);
    }
    if (parsed.action == ParseResult::Action::kRepairResults) {
      // A file operation, not a job: one rank does it (the others have nothing to do).
      if (comm.rank() != 0) return static_cast<int>(ExitCode::kOk);
      return static_cast<int>(repair_results(parsed.config.results, std::cout));
    }
    if (parsed.action != ParseResult::Action::kRun) {
      if (comm.rank() == 0) std::cout << parsed.text;
      return static_cast<int>(ExitCode::kOk);
    }
    return static_cast<int>(run_job(parsed.config, comm, std::cout));
  } catch (const UsageError& e) {
    // Raised identically on every rank (parsing and listing are collective decisions).
    if (comm.rank() == 0) std::cerr << "graybench: " << e.what() << "\n";
    return static_cast<int>(ExitCode::kUsage);
  } catch (const std::exception& e) {
    return fatal(comm, e.what());
  } catch (...) {
    return fatal(comm, "unknown exception");
  }
}
