#pragma once

#include <string>

namespace graybench {

/// Makes glibc's malloc keep the memory graybench frees for its next image instead of handing
/// it back to the kernel: one arena for all threads, no mmap for large blocks, no trimming.
/// By default every decoded image, libjpeg's coefficient buffers and the encoder's buffers
/// (tens of MB each) were fresh mmaps, so each image paid page faults and the kernel's zeroing
/// of every page again: 27 % of a sequential run's wall on photographs, 30 % at 2 threads
/// (perf; issue 8). The resident size stays at the job's high-water mark instead (+10 % here).
///
/// Call first thing in main, before any thread starts. Leaves malloc alone when the
/// environment already sets what it would (GLIBC_TUNABLES glibc.malloc.arena_max, mmap_max,
/// mmap_threshold, trim_threshold or top_pad; MALLOC_ARENA_MAX, MALLOC_MMAP_MAX_,
/// MALLOC_TRIM_THRESHOLD_, MALLOC_MMAP_THRESHOLD_, MALLOC_TOP_PAD_) and under another libc.
void tune_allocator();

/// What tune_allocator() did, for the run metadata (`malloc_policy`): "keep" (the tuning
/// above), "keep+hugetlb" (and GLIBC_TUNABLES=glibc.malloc.hugetlb=1 or 2 gave the heap
/// transparent huge pages), "environment" (left to the user's settings) or "system" (not
/// glibc, or not tuned).
std::string allocator_policy();

}  // namespace graybench
