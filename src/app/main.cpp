// graybench: parse -> run -> one catch -> exit code.
#include <iostream>
#include <memory>

#include "app/job.hpp"
#include "cli/config.hpp"
#include "core/cancel.hpp"
#include "mpi/comm.hpp"
#include "strategies/worker_protocol.hpp"

int main(int argc, char** argv) {
  using namespace graybench;
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
  install_stop_handlers();
  try {
    const ParseResult parsed = parse_command_line(args);
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
    std::cerr << "graybench: fatal error on rank " << comm.rank() << ": " << e.what() << "\n";
    if (comm.size() > 1) comm.abort(static_cast<int>(ExitCode::kFatal));
    return static_cast<int>(ExitCode::kFatal);
  }
}
