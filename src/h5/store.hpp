#pragma once

#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

namespace graybench {

/// Where a results path really leads: every symlink followed, even to a target that does not
/// exist yet (it will be created there, never in place of the link).
std::filesystem::path resolve_results_path(const std::string& path);

/// Exclusive lock between writers of one results file, held for one save. flock(2) on
/// "<target>.lock"; where the file system has no flock (some NFS mounts), or with
/// GRAYBENCH_LOCK=link, an O_EXCL-style link(2) lock whose holder (host, pid) is recorded so a
/// lock left by a dead process on this host is detected and broken. The lock file is removed on
/// release when it is ours.
class ResultsLock {
 public:
  /// Blocks until the lock is held. Throws std::runtime_error with the errno text.
  explicit ResultsLock(const std::filesystem::path& target);
  ~ResultsLock();
  ResultsLock(const ResultsLock&) = delete;
  ResultsLock& operator=(const ResultsLock&) = delete;

  /// Checks, without waiting, that the lock could be taken by this user (the lock file can be
  /// created, or the one present opened). Throws UsageError with the reason otherwise.
  static void probe(const std::filesystem::path& target);

 private:
  std::filesystem::path lock_path_;
  std::filesystem::path unique_path_;  // link lock only
  int fd_ = -1;                        // flock only
  bool link_ = false;
};

/// What recover_interrupted_save found and did (for `graybench --repair-results`).
struct Rollback {
  bool journal = false;           ///< "<target>.journal" existed (and is now removed)
  bool header_valid = false;      ///< false: the save died before changing anything
  bool created = false;           ///< the save was creating the file: it was removed
  std::uint64_t size_before = 0;  ///< size of the file when found
  std::uint64_t base_size = 0;    ///< its size at the last committed save (now restored)
  std::uint64_t records = 0;      ///< pre-images written back
  std::uint64_t bytes = 0;        ///< bytes they restored
};

/// Undoes a save that was interrupted (killed) in the middle: restores every byte it had
/// overwritten from "<target>.journal" and cuts what it appended. The caller holds the lock.
/// Returns true when something was rolled back; `done`, if set, says what exactly.
bool recover_interrupted_save(const std::filesystem::path& target, Rollback* done = nullptr);

/// A results file opened for an in-place append whose every overwrite of existing bytes is
/// preceded by a durable undo record in "<target>.journal" (a rollback journal, as SQLite keeps):
/// new runs are written after the file's old end, and the few metadata blocks HDF5 updates in
/// place (superblock, the /runs group's index) are saved first. The cost of a save is the size of
/// the run, not the size of the file. Until commit() the old content can always be restored;
/// destroying an uncommitted JournaledFile restores it at once.
class JournaledFile {
 public:
  /// Opens (or creates) `target`; the caller holds its ResultsLock.
  explicit JournaledFile(const std::filesystem::path& target);
  ~JournaledFile();
  JournaledFile(const JournaledFile&) = delete;
  JournaledFile& operator=(const JournaledFile&) = delete;

  hid_t id() const { return file_; }
  /// True when the file did not exist before this save.
  bool created() const;
  /// Closes the HDF5 file, makes it durable and drops the journal: the commit point.
  /// `before_commit` runs just before the journal is dropped (tests use it to fail there).
  void commit(const std::function<void()>& before_commit = {});

  /// The first I/O error of a failed save, with its errno text ("" if none).
  std::string io_error() const;

  struct Session;

 private:
  void abandon() noexcept;
  std::filesystem::path target_;
  std::unique_ptr<Session> session_;
  hid_t file_ = H5I_INVALID_HID;
  std::string last_error_;
};

}  // namespace graybench
