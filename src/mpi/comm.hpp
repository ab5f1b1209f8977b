#pragma once

#include <mpi.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <span>
#include <string>
#include <vector>

namespace graybench::mpi {

/// Throws std::runtime_error naming `what`, the rank and MPI's own message if `rc` is an error.
void check(int rc, const char* what);

/// Owns MPI initialisation: MPI_Init_thread(SERIALIZED), checked, and MPI_Finalize.
/// Worker threads never call MPI. The main thread does, except while rank 0's dispatcher
/// thread (dynamic distribution without one-sided atomics) serves requests: never both at once.
class Environment {
 public:
  Environment(int& argc, char**& argv);
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;
  int thread_level() const { return provided_; }

 private:
  int provided_ = 0;
};

/// True when an MPI launcher (mpirun/mpiexec, srun with a PMI plug-in) started this process,
/// false for a singleton (started directly): read from the launchers' environment variables.
bool started_by_launcher();

/// When the Environment finished initialising MPI (steady clock); the epoch if it never did.
std::chrono::steady_clock::time_point ready_time();

/// Library version string of the MPI implementation (MPI_Get_library_version), first line.
std::string library_version();

/// A duplicate of MPI_COMM_WORLD (owned and freed) with MPI_ERRORS_RETURN, so MPI failures
/// become exceptions that name the rank. Destroyed by an exception unwinding, it is not freed
/// (MPI_Comm_free is collective and the other ranks may never call it): every exception out of
/// a run is fatal and ends the job with MPI_Abort.
class Comm {
 public:
  static Comm world();
  /// A new communicator over the same ranks (owned, MPI_ERRORS_RETURN).
  Comm dup() const;
  Comm(Comm&& o) noexcept;
  Comm& operator=(Comm&&) = delete;
  Comm(const Comm&) = delete;
  Comm& operator=(const Comm&) = delete;
  ~Comm();

  MPI_Comm get() const { return comm_; }
  int rank() const { return rank_; }
  int size() const { return size_; }

  void barrier() const;
  /// Broadcasts a byte buffer from `root`; receivers' `bytes` are resized.
  void bcast(std::vector<std::uint8_t>& bytes, int root) const;
  /// Gathers each rank's bytes at `root`: one buffer per rank there, nothing elsewhere.
  std::vector<std::vector<std::uint8_t>> gather(std::span<const std::uint8_t> bytes,
                                                int root) const;
  /// Scatters one buffer per rank from `root` (ignored elsewhere); returns this rank's buffer.
  std::vector<std::uint8_t> scatter(const std::vector<std::vector<std::uint8_t>>& parts,
                                    int root) const;
  double max(double v) const;
  double min(double v) const;
  std::uint64_t sum(std::uint64_t v) const;
  /// Ends the whole job with `code` (used for fatal errors seen on one rank only).
  [[noreturn]] void abort(int code) const;

 private:
  explicit Comm(MPI_Comm c);
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
  int unwinding_ = std::uncaught_exceptions();  ///< exceptions in flight when made
};

}  // namespace graybench::mpi
