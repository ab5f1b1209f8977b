#include "core/allocator.hpp"

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace graybench {

namespace {
const char* g_policy = "system";

/// True when GLIBC_TUNABLES sets `key` (e.g. "glibc.malloc.arena_max").
bool tunable_set(const char* key) {
  const char* t = std::getenv("GLIBC_TUNABLES");
  return t && std::strstr(t, key);
}

bool environment_tunes_malloc() {
  // Only the settings tune_allocator() would change; glibc.malloc.hugetlb (transparent huge
  // pages for the heap) and the like combine with them.
  for (const char* key :
       {"glibc.malloc.arena_max", "glibc.malloc.mmap_max", "glibc.malloc.mmap_threshold",
        "glibc.malloc.trim_threshold", "glibc.malloc.top_pad"}) {
    if (tunable_set(key)) return true;
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
  // Huge pages for the heap can only be asked for before the process starts (the tunable);
  // say so in the policy, as it changes the timings (docs/schema.md, malloc_policy).
  const bool thp = tunable_set("glibc.malloc.hugetlb=1") || tunable_set("glibc.malloc.hugetlb=2");
  g_policy = !ok ? "system" : thp ? "keep+hugetlb" : "keep";
#endif
}

std::string allocator_policy() {
  return g_policy;
}

}  // namespace graybench
