// graybench-worker: a worker process of the `processes` strategy, and nothing else. It links no
// MPI and no HDF5 (only the codecs and the kernel), so it starts in about 10 ms where the
// graybench binary takes about 50: a cost every run of `processes` pays once per worker.
// `graybench --worker-mode` does the same work and stays as the fallback.
#include <string>
#include <vector>

#include "core/allocator.hpp"
#include "strategies/worker_protocol.hpp"

int main(int argc, char** argv) {
  graybench::tune_allocator();  // as graybench does: every image reuses the memory of the last
  return graybench::worker_main(std::vector<std::string>(argv, argv + argc));
}
