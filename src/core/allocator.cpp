#include "core/allocator.hpp"

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace graybench {

namespace {
const char* g_policy = "system";

bool environment_tunes_malloc() {
  if (const char* t = std::getenv("GLIBC_TUNABLES"); t && std::strstr(t, "glibc.malloc.")) {
    return true;
  }
  for (const char* var : {"MALLOC_ARENA_MAX", "MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_",
                          "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_"}) {
    if (std::getenv(var)) return true;
  }
  return false;
}
}  // namespace

void tune_allocator() {
#if defined(__GLIBC__)
  if (environment_tunes_malloc()) {
    g_policy = "environment";
    return;
  }
  // One arena: worker threads' heaps are 64 MiB mmaps that are unmapped when they empty, so
  // a thread's large blocks would still come and go; the lock is taken a few times per image.
  const bool ok = mallopt(M_ARENA_MAX, 1) == 1 &&
                  // Large blocks from the heap, never from mmap (which is unmapped on free).
                  mallopt(M_MMAP_MAX, 0) == 1 &&
                  // Never give the top of the heap back: the next image reuses it, faulted in.
                  mallopt(M_TRIM_THRESHOLD, -1) == 1;
  g_policy = ok ? "keep" : "system";
#endif
}

std::string allocator_policy() {
  return g_policy;
}

}  // namespace graybench
