#include "mpi/comm.hpp"

#include <climits>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <utility>

namespace graybench::mpi {

namespace {
int world_rank() {
  int initialized = 0, rank = -1;
  MPI_Initialized(&initialized);
  if (initialized) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

int to_int_count(std::size_t n, const char* what) {
  if (n > static_cast<std::size_t>(INT_MAX)) {
    throw std::runtime_error(std::string("MPI: ") + what + " message larger than 2 GiB");
  }
  return static_cast<int>(n);
}
}  // namespace

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING] = {};
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  throw std::runtime_error("MPI: " + std::string(what) + " failed on rank " +
                           std::to_string(world_rank()) + ": " + std::string(msg, len));
}

namespace {
std::chrono::steady_clock::time_point ready_at{};
}  // namespace

bool started_by_launcher() {
  // mpirun/mpiexec (Open MPI, MPICH/Hydra), srun --mpi=pmix|pmi2 and other PMI launchers.
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "PMI_FD"}) {
    if (std::getenv(var)) return true;
  }
  return false;
}

Environment::Environment(int& argc, char**& argv) {
  // Started without mpirun/srun, Open MPI 4 forks a daemon (orted) for the singleton so it
  // could spawn processes later; graybench never spawns MPI processes (its `processes` workers
  // are plain children that never initialise MPI), so the singleton runs isolated: 0.13-0.18 s
  // less start-up per job, measured here. A value the user set wins; other MPIs ignore it, and
  // under a launcher the singleton component is not used at all.
  ::setenv("OMPI_MCA_ess_singleton_isolated", "1", 0);
  // A singleton talks only to itself, so it needs no network transport: Open MPI's `cm` PML
  // would still open the PSM and PSM2 (Omni-Path) libraries, whose start-up calibration took
  // 0.21 s of the 0.27 s MPI_Init here (on a machine without such hardware). `ob1` with its
  // self transport is what a singleton ends up using anyway. Only without a launcher (under
  // mpirun or srun the site's choice stands), and a value the user set wins.
  if (!started_by_launcher()) ::setenv("OMPI_MCA_pml", "ob1", 0);
  check(MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided_), "MPI_Init_thread");
  if (provided_ < MPI_THREAD_SERIALIZED) {
    MPI_Finalize();
    throw std::runtime_error("MPI: the library does not provide MPI_THREAD_SERIALIZED");
  }
  ready_at = std::chrono::steady_clock::now();
}

std::chrono::steady_clock::time_point ready_time() {
  return ready_at;
}

Environment::~Environment() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

std::string library_version() {
  char buf[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int len = 0;
  MPI_Get_library_version(buf, &len);
  std::string s(buf, len);
  const auto nl = s.find('\n');
  if (nl != std::string::npos) s.resize(nl);
  while (!s.empty() && (s.back() == ' ' || s.back() == ',' || s.back() == '\0'))
    s.pop_back();
  return s;
}

Comm::Comm(MPI_Comm c) : comm_(c) {
  check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
}

Comm Comm::world() {
  MPI_Comm dup = MPI_COMM_NULL;
  check(MPI_Comm_dup(MPI_COMM_WORLD, &dup), "MPI_Comm_dup");
  check(MPI_Comm_set_errhandler(dup, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  return Comm(dup);
}

Comm Comm::dup() const {
  MPI_Comm d = MPI_COMM_NULL;
  check(MPI_Comm_dup(comm_, &d), "MPI_Comm_dup");
  check(MPI_Comm_set_errhandler(d, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  return Comm(d);
}

Comm::Comm(Comm&& o) noexcept
    : comm_(std::exchange(o.comm_, MPI_COMM_NULL)), rank_(o.rank_), size_(o.size_) {}

Comm::~Comm() {
  // MPI_Comm_free is collective: while an exception unwinds on this rank alone, the others may
  // never call it, so the handle is left to MPI_Abort, which the fatal path ends in.
  if (std::uncaught_exceptions() > unwinding_) return;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (comm_ != MPI_COMM_NULL && !finalized) MPI_Comm_free(&comm_);
}

void Comm::barrier() const {
  check(MPI_Barrier(comm_), "MPI_Barrier");
}

void Comm::bcast(std::vector<std::uint8_t>& bytes, int root) const {
  std::uint64_t n = bytes.size();
  check(MPI_Bcast(&n, 1, MPI_UINT64_T, root, comm_), "MPI_Bcast(size)");
  bytes.resize(n);
  check(MPI_Bcast(bytes.data(), to_int_count(n, "bcast"), MPI_BYTE, root, comm_), "MPI_Bcast");
}

std::vector<std::vector<std::uint8_t>> Comm::gather(std::span<const std::uint8_t> bytes,
                                                    int root) const {
  const int mine = to_int_count(bytes.size(), "gather");
  std::vector<int> counts(rank_ == root ? size_ : 0);
  check(MPI_Gather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, root, comm_), "MPI_Gather");
  std::vector<int> displs(counts.size());
  std::size_t total = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    displs[i] = to_int_count(total, "gather");
    total += static_cast<std::size_t>(counts[i]);
  }
  std::vector<std::uint8_t> all(total);
  check(MPI_Gatherv(bytes.data(), mine, MPI_BYTE, all.data(), counts.data(), displs.data(),
                    MPI_BYTE, root, comm_),
        "MPI_Gatherv");
  std::vector<std::vector<std::uint8_t>> out(counts.size());
  for (std::size_t i = 0; i < counts.size(); ++i) {
    out[i].assign(all.begin() + displs[i], all.begin() + displs[i] + counts[i]);
  }
  return out;
}

std::vector<std::uint8_t> Comm::scatter(const std::vector<std::vector<std::uint8_t>>& parts,
                                        int root) const {
  std::vector<int> counts, displs;
  std::vector<std::uint8_t> all;
  if (rank_ == root) {
    if (parts.size() != static_cast<std::size_t>(size_)) {
      throw std::logic_error("scatter: need one part per rank");
    }
    for (const auto& p : parts) {
      counts.push_back(to_int_count(p.size(), "scatter"));
      displs.push_back(to_int_count(all.size(), "scatter"));
      all.insert(all.end(), p.begin(), p.end());
    }
  }
  int mine = 0;
  check(MPI_Scatter(counts.data(), 1, MPI_INT, &mine, 1, MPI_INT, root, comm_), "MPI_Scatter");
  std::vector<std::uint8_t> out(static_cast<std::size_t>(mine));
  check(MPI_Scatterv(all.data(), counts.data(), displs.data(), MPI_BYTE, out.data(), mine, MPI_BYTE,
                     root, comm_),
        "MPI_Scatterv");
  return out;
}

double Comm::max(double v) const {
  double out = 0;
  check(MPI_Allreduce(&v, &out, 1, MPI_DOUBLE, MPI_MAX, comm_), "MPI_Allreduce(max)");
  return out;
}

double Comm::min(double v) const {
  double out = 0;
  check(MPI_Allreduce(&v, &out, 1, MPI_DOUBLE, MPI_MIN, comm_), "MPI_Allreduce(min)");
  return out;
}

std::uint64_t Comm::sum(std::uint64_t v) const {
  std::uint64_t out = 0;
  check(MPI_Allreduce(&v, &out, 1, MPI_UINT64_T, MPI_SUM, comm_), "MPI_Allreduce(sum)");
  return out;
}

void Comm::abort(int code) const {
  MPI_Abort(comm_ == MPI_COMM_NULL ? MPI_COMM_WORLD : comm_, code);
  std::_Exit(code);
}

}  // namespace graybench::mpi
