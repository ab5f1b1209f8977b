#pragma once

// The results file's attributes, declared once: name, type, unit, meaning. docs/schema.md is
// checked against these tables (tests/unit/schema_doc_test.cpp) and against the record field
// tables in timing/records.hpp; a test checks that every attribute a real run writes is
// declared here. Adding an attribute: one line here, one row in docs/schema.md.

#include <span>
#include <string_view>

#include "timing/records.hpp"

namespace graybench {

/// The schema this build writes (root attribute `schema`).
inline constexpr const char* kSchema = "graybench/2";
/// Earlier schemas this build still reads (never appends to).
inline constexpr std::string_view kReadableSchemas[] = {"graybench/1", "graybench/2"};

enum class AttrType { kInt64, kFloat64, kString };

/// One documented attribute. A `prefix` entry covers every name starting with `name`
/// (`env_OMP_` covers `env_OMP_PROC_BIND`).
struct AttributeSpec {
  std::string_view name;
  AttrType type;
  std::string_view unit;
  std::string_view meaning;
  bool prefix = false;
};

/// The schema's name of an attribute type: int64, float64, string.
constexpr std::string_view type_name(AttrType t) {
  return t == AttrType::kInt64 ? "int64" : t == AttrType::kFloat64 ? "float64" : "string";
}

/// The type an attribute value has.
AttrType type_of(const AttrValue& v);

// clang-format off
inline constexpr AttributeSpec kRootAttributes[] = {
  {"schema",             AttrType::kString, "", "layout version, graybench/<major>"},
  {"created",            AttrType::kString, "", "when the file was created (ISO 8601 UTC)"},
  {"graybench_version",  AttrType::kString, "", "version that created the file"},
  {"checksum_algorithm", AttrType::kString, "", "algorithm of the images' checksum column"},
};

inline constexpr AttributeSpec kRunAttributes[] = {
  {"strategy",               AttrType::kString,  "",      "intra-node strategy (one of the strategy names)"},
  {"workers",                AttrType::kInt64,   "",      "workers (threads or processes) per rank (1 for sequential)"},
  {"workers_source",         AttrType::kString,  "",      "where the worker list came from"},
  {"mode",                   AttrType::kString,  "",      "files (read + decode timed) or memory (before the clock)"},
  {"kernel_repeat",          AttrType::kInt64,   "",      "grayscale kernel runs per image (--kernel-repeat)"},
  {"gil",                    AttrType::kInt64,   "",      "1 if the GIL was emulated (--gil)"},
  {"gil_interval_s",         AttrType::kFloat64, "s",     "GIL switch interval"},
  {"gil_switches",           AttrType::kInt64,   "",      "times the emulated GIL passed between threads on rank 0 (gil = 1 only)"},
  {"ipc",                    AttrType::kString,  "",      "processes: pipe or shm"},
  {"worker_respawns",        AttrType::kInt64,   "",      "processes: dead workers replaced on rank 0 during the run"},
  {"worker_retries",         AttrType::kInt64,   "",      "processes: images rank 0 retried on a fresh worker after theirs died or hung"},
  {"workers_stuck",          AttrType::kInt64,   "",      "processes: workers rank 0 killed for missing their deadline"},
  {"max_pixels",             AttrType::kInt64,   "pixels", "--max-pixels: larger images (by their header) are not decoded"},
  {"memory_budget_bytes",    AttrType::kInt64,   "bytes", "memory a rank lets its images use at once, max over ranks"},
  {"memory_budget_waits",    AttrType::kInt64,   "",      "images that waited for memory held by others, max over ranks"},
  {"images_redistributed",   AttrType::kInt64,   "",      "dynamic: images handed on by ranks whose worker processes ran out"},
  {"omp_schedule",           AttrType::kString,  "",      "openmp loop schedule, kind[,chunk]"},
  {"omp_team_size",          AttrType::kInt64,   "",      "openmp: threads the runtime used on rank 0"},
  {"omp_proc_bind",          AttrType::kString,  "",      "openmp: the runtime's thread binding on rank 0"},
  {"omp_num_places",         AttrType::kInt64,   "",      "openmp: the runtime's places on rank 0"},
  {"env_OMP_",               AttrType::kString,  "",      "every OMP_* environment variable of rank 0", true},
  {"env_SLURM_",             AttrType::kString,  "",      "every SLURM_* environment variable of rank 0", true},
  {"ranks",                  AttrType::kInt64,   "",      "MPI ranks"},
  {"nodes",                  AttrType::kInt64,   "",      "distinct node names among the ranks (SLURMD_NODENAME, else host name)"},
  {"node_names",             AttrType::kString,  "",      "those node names, sorted, comma-separated"},
  {"ranks_per_node",         AttrType::kInt64,   "",      "most ranks on one node"},
  {"run_uuid",               AttrType::kString,  "",      "random UUID (version 4) of this run"},
  {"slurm_job_id",           AttrType::kString,  "",      "SLURM_JOB_ID of rank 0, empty outside Slurm"},
  {"slurm_step_id",          AttrType::kString,  "",      "SLURM_STEP_ID of rank 0, empty outside Slurm"},
  {"cache",                  AttrType::kString,  "",      "warm, or cold (inputs evicted from the page cache before the run)"},
  {"cache_resident_fraction", AttrType::kFloat64, "",     "share of the inputs' pages in the page cache at the start, -1 if none inspected"},
  {"hosts",                  AttrType::kString,  "",      "those host names, sorted, comma-separated"},
  {"hostname",               AttrType::kString,  "",      "host of rank 0"},
  {"repeat",                 AttrType::kInt64,   "",      "repetition index, 0-based"},
  {"started",                AttrType::kString,  "",      "wall-clock time at the common start (ISO 8601 UTC)"},
  {"finished",               AttrType::kString,  "",      "wall-clock time after the final barrier (ISO 8601 UTC)"},
  {"wall_s",                 AttrType::kFloat64, "s",     "the headline: barrier, work, barrier, max over ranks"},
  {"n_images",               AttrType::kInt64,   "",      "images in the input list (each appears once in images)"},
  {"n_failed",               AttrType::kInt64,   "",      "rows of images that failed (status other than ok and not_processed)"},
  {"n_not_processed",        AttrType::kInt64,   "",      "rows with status not_processed"},
  {"status",                 AttrType::kString,  "",      "complete, or incomplete if the run was interrupted"},
  {"setup_s",                AttrType::kFloat64, "s",     "strategy start-up, max over ranks"},
  {"teardown_s",             AttrType::kFloat64, "s",     "strategy shut-down, max over ranks"},
  {"distribute_s",           AttrType::kFloat64, "s",     "handing the image list to the ranks, max over ranks"},
  {"gather_s",               AttrType::kFloat64, "s",     "collecting rows at rank 0, max over ranks"},
  {"startup_s",              AttrType::kFloat64, "s",     "process start (from the kernel) to MPI ready, on rank 0"},
  {"list_s",                 AttrType::kFloat64, "s",     "listing the inputs and checking the results file, on rank 0"},
  {"save_s",                 AttrType::kFloat64, "s",     "rank 0 appending this run to the results file (patched in after writing)"},
  {"job_elapsed_s",          AttrType::kFloat64, "s",     "process start to the end of this run's save, on rank 0"},
  {"launcher",               AttrType::kString,  "",      "rank 0's launcher on its node (mpirun, orted, prted, hydra_pmi_proxy, slurmstepd, ...) or none"},
  {"launch_s",               AttrType::kFloat64, "s",     "launcher start to rank 0's process start (0 without a launcher)"},
  {"launcher_elapsed_s",     AttrType::kFloat64, "s",     "launcher start to the end of this run's save (job_elapsed_s + launch_s)"},
  {"total_pixels",           AttrType::kInt64,   "pixels", "sum of width x height over decoded images"},
  {"total_bytes_in",         AttrType::kInt64,   "bytes", "sum of input file sizes when listed"},
  {"distribution",           AttrType::kString,  "",      "how images were spread over ranks (one of the policy names)"},
  {"chunk",                  AttrType::kInt64,   "",      "images per request under dynamic"},
  {"distribution_mechanism", AttrType::kString,  "",      "static, rma or dispatcher"},
  {"total_workers",          AttrType::kInt64,   "",      "ranks x workers (ranks for sequential)"},
  {"oversubscribed",         AttrType::kInt64,   "",      "1 when workers exceed the CPUs a rank or a node has"},
  {"oversubscription",       AttrType::kString,  "",      "why, empty when oversubscribed is 0"},
  {"cores_physical",         AttrType::kInt64,   "",      "physical cores of rank 0's host"},
  {"output_dir",             AttrType::kString,  "",      "--output-dir, empty when outputs were not written"},
  {"decoder",                AttrType::kString,  "",      "--decoder: auto or stb"},
  {"png_encoder",            AttrType::kString,  "",      "the PNG encoder that wrote the outputs"},
  {"png_level",              AttrType::kInt64,   "",      "--png-level 1-12 (1: ISA-L/libdeflate 1; 2-12: libdeflate)"},
  {"codec_",                 AttrType::kString,  "",      "version of each codec library linked in", true},
  {"item_order",             AttrType::kString,  "",      "largest_first or listed: order within a rank's static share"},
  {"input_fingerprint",      AttrType::kString,  "",      "hex hash of the sorted path/size lines of the input list"},
  {"inputs",                 AttrType::kString,  "",      "path of this run's input list dataset"},
  {"command_line",           AttrType::kString,  "",      "the full invocation, shell-quoted"},
  {"graybench_version",      AttrType::kString,  "",      "version that ran"},
  {"git_revision",           AttrType::kString,  "",      "git describe --always --dirty of the build"},
  {"compiler",               AttrType::kString,  "",      "compiler that built it"},
  {"compiler_flags",         AttrType::kString,  "",      "its flags"},
  {"build_type",             AttrType::kString,  "",      "CMake build type"},
  {"mpi_library",            AttrType::kString,  "",      "MPI_Get_library_version, first line"},
  {"hdf5_version",           AttrType::kString,  "",      "HDF5 library version at run time"},
  {"checksum_algorithm",     AttrType::kString,  "",      "algorithm of the images' checksum column"},
  {"cpu_model",              AttrType::kString,  "",      "model name of rank 0's host"},
  {"cpus_online",            AttrType::kInt64,   "",      "logical CPUs online on rank 0's host"},
  {"simd_target",            AttrType::kString,  "",      "SIMD target the grayscale kernel dispatched to on rank 0"},
  {"malloc_policy",          AttrType::kString,  "",      "keep (glibc malloc keeps freed memory for the next image), environment (the user's malloc settings) or system"},
  {"membw_gbps",             AttrType::kFloat64, "GB/s",  "rank 0's node copy bandwidth, read + written bytes (memcpy probe)"},
};
// clang-format on

/// The declaration of attribute `name` in `table`, or nullptr.
const AttributeSpec* find_attribute(std::span<const AttributeSpec> table, std::string_view name);

/// Names of the attributes in `attrs` that `table` does not declare, or declares with another
/// type ("name (int64, declared string)"); empty when all are declared.
std::vector<std::string> undeclared_attributes(std::span<const AttributeSpec> table,
                                               const Attributes& attrs);

}  // namespace graybench
