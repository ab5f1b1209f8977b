#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/work_item.hpp"
#include "timing/records.hpp"
#include "timing/schema.hpp"

namespace graybench {

/// Checks, before any work, that `path` can take new runs: its directory is writable, the
/// writers' lock can be taken, and the file (symlinks followed) is absent or an HDF5 file of
/// this schema that this user may write. A save killed half-way is rolled back first.
/// Throws UsageError otherwise.
void check_results_target(const std::string& path);

/// Appends `runs` (with their input list) to the results file at `path` (through symlinks),
/// creating it if needed. In place, with a rollback journal (h5/store.hpp): the cost is the size
/// of the runs, not of the file; owner and mode stay; runs already in the file survive any
/// interruption or failure byte for byte. `before_commit`, if set, is called just before the
/// commit point (tests use it to simulate a failure). `last_words`, if set, is called once the
/// runs are written, just before the file is closed; the attributes it returns are set on every
/// new run (the run's own save time, measured as late as possible).
/// Returns the names of the new run groups. Throws std::runtime_error with the cause (errno text).
std::vector<std::string> append_runs(const std::string& path, const std::vector<InputFile>& inputs,
                                     const std::vector<RunResult>& runs,
                                     const std::function<void()>& before_commit = {},
                                     const std::function<Attributes()>& last_words = {});

/// "major.minor.release" of the HDF5 library in use (for the run metadata).
std::string hdf5_library_version();

/// A results file as read back by graybench's own reader.
struct ResultsFile {
  Attributes root;
  std::vector<std::string> run_names;  ///< sorted
  std::vector<RunResult> runs;         ///< same order as run_names
  std::vector<InputFile> inputs;       ///< /inputs (output_rel not stored)
};

/// Reads a whole results file of any readable schema (kReadableSchemas). Throws
/// std::runtime_error with context and HDF5's innermost cause.
ResultsFile read_results(const std::string& path);

}  // namespace graybench
