// The save mechanism of the results file: lock, rollback journal, in-place append.
//
// Why a rollback journal under a virtual file driver: HDF5 appends new objects after the file's
// end but updates a few metadata blocks in place (superblock, the index of /runs). A kill in the
// middle of those updates could leave earlier runs unreadable, which is why saves used to copy
// the whole file and rename it back (O(file size) per run). Here a small file driver of our own
// sees every write; before a write touches bytes that existed when the save began it appends
// their old content to "<target>.journal" and fsyncs it. The commit is the unlink of the
// journal after the file is closed and fsynced. Whatever moment a SIGKILL (or a full disk)
// strikes, the next writer (or the failing one itself) puts the old bytes back and cuts the file
// to its old length: byte for byte the file as it was. SWMR was not used: a crashed SWMR writer
// leaves the superblock marked open (readers then need h5clear) and 1.10 cannot add groups
// under SWMR.
#include "h5/store.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

#include "core/errors.hpp"
#include "core/posix.hpp"
#include "timing/metadata.hpp"

namespace graybench {

namespace fs = std::filesystem;

namespace {

std::string errno_text(int err) {
  return std::generic_category().message(err);
}

fs::path with_suffix(const fs::path& p, const std::string& suffix) {
  return fs::path(p.string() + suffix);
}

void fsync_dir_of(const fs::path& p) {
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // durability only; the content is right either way
  ::fsync(fd);
  ::close(fd);
}

bool pread_fully(int fd, void* buf, std::size_t n, std::uint64_t off) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    const ssize_t k = ::pread(fd, p, n, static_cast<off_t>(off));
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) return false;
    if (k == 0) {  // past the end: zeros, as the sec2 driver gives
      std::memset(p, 0, n);
      return true;
    }
    p += k;
    n -= static_cast<std::size_t>(k);
    off += static_cast<std::uint64_t>(k);
  }
  return true;
}

bool pwrite_fully(int fd, const void* buf, std::size_t n, std::uint64_t off) {
  const auto* p = static_cast<const char*>(buf);
  while (n > 0) {
    const ssize_t k = ::pwrite(fd, p, n, static_cast<off_t>(off));
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      if (k == 0) errno = ENOSPC;
      return false;
    }
    p += k;
    n -= static_cast<std::size_t>(k);
    off += static_cast<std::uint64_t>(k);
  }
  return true;
}

std::uint64_t fnv1a(const void* data, std::size_t n, std::uint64_t h = 1469598103934665603ull) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

// Journal layout (native byte order; it never leaves the machine that wrote it):
//   header: magic[16] "graybench-jrnl1\n", u64 base_size, u64 created, u64 fnv(header so far)
//   record: u64 offset, u64 length, bytes[length], u64 fnv(offset, length, bytes)
// A record is written and fsynced before the bytes it saves are overwritten, so a torn last
// record means its overwrite never happened.
constexpr char kMagic[16] = {'g', 'r', 'a', 'y', 'b', 'e', 'n', 'c',
                             'h', '-', 'j', 'r', 'n', 'l', '1', '\n'};
struct JournalHeader {
  char magic[16];
  std::uint64_t base_size;
  std::uint64_t created;
  std::uint64_t check;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// The session shared by JournaledFile and the file driver.

struct JournaledFile::Session {
  fs::path target;
  int journal = -1;
  std::uint64_t base = 0;  // size of the file when the save began
  bool created = false;
  std::map<std::uint64_t, std::uint64_t> saved;  // start -> end of pre-images already journaled
  bool discard = false;                          // after a failure: drop writes, roll back later
  std::string error;                             // first I/O error, with its errno text

  /// Records the first I/O error. The save is lost from then on, so later writes are dropped:
  /// HDF5 can then close every dataset and the file without failing again (a dataset whose
  /// close fails stays registered and crashes HDF5's shutdown).
  void note_error(const std::string& what, int err) {
    if (error.empty()) error = what + ": " + errno_text(err);
    discard = true;
  }

  /// Journals the old bytes of [lo, hi) that are not journaled yet; false on an I/O error.
  bool save_preimage(int fd, std::uint64_t lo, std::uint64_t hi) {
    std::uint64_t pos = lo;
    while (pos < hi) {
      // Skip a saved interval covering pos, else find the next saved start.
      auto it = saved.upper_bound(pos);
      if (it != saved.begin()) {
        auto prev = std::prev(it);
        if (prev->second > pos) {
          pos = prev->second;
          continue;
        }
      }
      const std::uint64_t end = it == saved.end() ? hi : std::min(hi, it->first);
      if (!append_record(fd, pos, end - pos)) return false;
      saved[pos] = end;
      pos = end;
    }
    return true;
  }

  bool append_record(int fd, std::uint64_t off, std::uint64_t len) {
    std::vector<char> rec(16 + len + 8);
    std::memcpy(rec.data(), &off, 8);
    std::memcpy(rec.data() + 8, &len, 8);
    if (!pread_fully(fd, rec.data() + 16, len, off)) {
      note_error("read " + target.string(), errno);
      return false;
    }
    const std::uint64_t check = fnv1a(rec.data(), 16 + len);
    std::memcpy(rec.data() + 16 + len, &check, 8);
    const off_t at = ::lseek(journal, 0, SEEK_END);
    if (at < 0 || !pwrite_fully(journal, rec.data(), rec.size(), static_cast<std::uint64_t>(at))) {
      note_error("write journal " + with_suffix(target, ".journal").string(), errno);
      return false;
    }
    if (::fsync(journal) != 0) {
      note_error("fsync journal " + with_suffix(target, ".journal").string(), errno);
      return false;
    }
    return true;
  }
};

// ---------------------------------------------------------------------------------------------
// The file driver: POSIX I/O like HDF5's sec2 driver, plus the journal.

namespace {

struct DriverInfo {
  JournaledFile::Session* session;
};

struct JFile {
  H5FD_t pub;  // must come first: HDF5 treats a JFile* as an H5FD_t*
  int fd = -1;
  haddr_t eoa = 0;
  haddr_t eof = 0;
  dev_t dev = 0;
  ino_t ino = 0;
  JournaledFile::Session* session = nullptr;
};

constexpr haddr_t kMaxAddr = (static_cast<haddr_t>(1) << (8 * sizeof(off_t) - 1)) - 1;

void push_error(const char* func, H5E_major_t maj, H5E_minor_t min, const std::string& msg) {
  H5Epush2(H5E_DEFAULT, __FILE__, func, __LINE__, H5E_ERR_CLS, maj, min, "%s", msg.c_str());
}

H5FD_t* jfd_open(const char* name, unsigned flags, hid_t fapl, haddr_t maxaddr) {
  if (maxaddr == 0 || maxaddr == HADDR_UNDEF || maxaddr > kMaxAddr) maxaddr = kMaxAddr;
  const auto* info = static_cast<const DriverInfo*>(H5Pget_driver_info(fapl));
  JournaledFile::Session* session = info ? info->session : nullptr;
  int o = (flags & H5F_ACC_RDWR) ? O_RDWR : O_RDONLY;
  if (flags & H5F_ACC_TRUNC) o |= O_TRUNC;
  if (flags & H5F_ACC_CREAT) o |= O_CREAT;
  if (flags & H5F_ACC_EXCL) o |= O_EXCL;
  int fd;
  do {
    fd = ::open(name, o | O_CLOEXEC, 0666);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    const int err = errno;
    if (session) session->note_error(std::string("open ") + name, err);
    push_error("jfd_open", H5E_FILE, H5E_CANTOPENFILE,
               std::string("open ") + name + ": " + errno_text(err));
    return nullptr;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    push_error("jfd_open", H5E_FILE, H5E_BADFILE, "fstat: " + errno_text(err));
    return nullptr;
  }
  auto* f = new JFile;
  std::memset(&f->pub, 0, sizeof f->pub);
  f->fd = fd;
  f->eof = static_cast<haddr_t>(st.st_size);
  f->dev = st.st_dev;
  f->ino = st.st_ino;
  f->session = session;
  return &f->pub;
}

herr_t jfd_close(H5FD_t* file) {
  auto* f = reinterpret_cast<JFile*>(file);
  const int rc = ::close(f->fd);
  const int err = errno;
  delete f;
  if (rc != 0 && err != EINTR) {
    push_error("jfd_close", H5E_IO, H5E_CANTCLOSEFILE, "close: " + errno_text(err));
    return -1;
  }
  return 0;
}

int jfd_cmp(const H5FD_t* a, const H5FD_t* b) {
  const auto* x = reinterpret_cast<const JFile*>(a);
  const auto* y = reinterpret_cast<const JFile*>(b);
  if (x->dev != y->dev) return x->dev < y->dev ? -1 : 1;
  if (x->ino != y->ino) return x->ino < y->ino ? -1 : 1;
  return 0;
}

herr_t jfd_query(const H5FD_t*, unsigned long* flags) {
  if (flags) {
    *flags = H5FD_FEAT_AGGREGATE_METADATA | H5FD_FEAT_ACCUMULATE_METADATA | H5FD_FEAT_DATA_SIEVE |
             H5FD_FEAT_AGGREGATE_SMALLDATA;
  }
  return 0;
}

haddr_t jfd_get_eoa(const H5FD_t* file, H5FD_mem_t) {
  return reinterpret_cast<const JFile*>(file)->eoa;
}

herr_t jfd_set_eoa(H5FD_t* file, H5FD_mem_t, haddr_t addr) {
  auto* f = reinterpret_cast<JFile*>(file);
  JournaledFile::Session* s = f->session;
  // HDF5 rewrites the superblock (its end-of-allocation field) as soon as it opens the file,
  // long before the new blocks are written. Growing the file to match at once keeps it
  // readable by anyone while the save runs: only the final metadata flush then needs the
  // journal to be undone.
  if (s && !s->discard && addr > f->eof) {
    if (::ftruncate(f->fd, static_cast<off_t>(addr)) != 0) {
      const int err = errno;
      s->note_error("extend " + s->target.string(), err);
      push_error("jfd_set_eoa", H5E_IO, H5E_SEEKERROR, s->error);
      return -1;
    }
    f->eof = addr;
  }
  f->eoa = addr;
  return 0;
}

haddr_t jfd_get_eof(const H5FD_t* file, H5FD_mem_t) {
  return reinterpret_cast<const JFile*>(file)->eof;
}

herr_t jfd_get_handle(H5FD_t* file, hid_t, void** handle) {
  *handle = &reinterpret_cast<JFile*>(file)->fd;
  return 0;
}

herr_t jfd_read(H5FD_t* file, H5FD_mem_t, hid_t, haddr_t addr, size_t size, void* buf) {
  auto* f = reinterpret_cast<JFile*>(file);
  if (!pread_fully(f->fd, buf, size, addr)) {
    const int err = errno;
    if (f->session) f->session->note_error("read " + f->session->target.string(), err);
    push_error("jfd_read", H5E_IO, H5E_READERROR, "read: " + errno_text(err));
    return -1;
  }
  return 0;
}

herr_t jfd_write(H5FD_t* file, H5FD_mem_t, hid_t, haddr_t addr, size_t size, const void* buf) {
  auto* f = reinterpret_cast<JFile*>(file);
  JournaledFile::Session* s = f->session;
  if (s && s->discard) return 0;  // a failed save: its bytes are rolled back anyway
  if (s && addr < s->base &&
      !s->save_preimage(f->fd, addr, std::min<haddr_t>(addr + size, s->base))) {
    push_error("jfd_write", H5E_IO, H5E_WRITEERROR, s->error);
    return -1;
  }
  if (!pwrite_fully(f->fd, buf, size, addr)) {
    const int err = errno;
    const std::string what = "write " + std::to_string(size) + " bytes at offset " +
                             std::to_string(addr) + " of " +
                             (s ? s->target.string() : std::string("the file"));
    if (s) s->note_error(what, err);
    push_error("jfd_write", H5E_IO, H5E_WRITEERROR, what + ": " + errno_text(err));
    return -1;
  }
  f->eof = std::max<haddr_t>(f->eof, addr + size);
  return 0;
}

herr_t jfd_flush(H5FD_t*, hid_t, hbool_t) {
  return 0;  // durability is the commit's fsync
}

herr_t jfd_truncate(H5FD_t* file, hid_t, hbool_t) {
  auto* f = reinterpret_cast<JFile*>(file);
  if (f->session && f->session->discard) return 0;
  if (f->eoa == f->eof) return 0;
  // Shrinking below the old end would destroy bytes the journal does not hold.
  const haddr_t to = f->session ? std::max<haddr_t>(f->eoa, f->session->base) : f->eoa;
  if (::ftruncate(f->fd, static_cast<off_t>(to)) != 0) {
    const int err = errno;
    if (f->session) f->session->note_error("truncate " + f->session->target.string(), err);
    push_error("jfd_truncate", H5E_IO, H5E_SEEKERROR, "ftruncate: " + errno_text(err));
    return -1;
  }
  f->eof = to;
  return 0;
}

// Writers serialise on ResultsLock, which also works where flock does not; readers are never
// blocked by a save (as with the copy-and-rename saves before).
herr_t jfd_lock(H5FD_t*, hbool_t) {
  return 0;
}
herr_t jfd_unlock(H5FD_t*) {
  return 0;
}

hid_t driver_id() {
  static const hid_t id = [] {
    // Past a file-size limit (ulimit -f) a write must fail with EFBIG, like a full disk, rather
    // than kill the process with SIGXFSZ and its finished runs with it.
    std::signal(SIGXFSZ, SIG_IGN);
    static H5FD_class_t cls{};
    cls.name = "graybench-journal";
    cls.maxaddr = kMaxAddr;
    cls.fc_degree = H5F_CLOSE_STRONG;
    cls.fapl_size = sizeof(DriverInfo);
    cls.open = jfd_open;
    cls.close = jfd_close;
    cls.cmp = jfd_cmp;
    cls.query = jfd_query;
    cls.get_eoa = jfd_get_eoa;
    cls.set_eoa = jfd_set_eoa;
    cls.get_eof = jfd_get_eof;
    cls.get_handle = jfd_get_handle;
    cls.read = jfd_read;
    cls.write = jfd_write;
    cls.flush = jfd_flush;
    cls.truncate = jfd_truncate;
    cls.lock = jfd_lock;
    cls.unlock = jfd_unlock;
    const H5FD_mem_t map[] = H5FD_FLMAP_DICHOTOMY;
    std::copy(std::begin(map), std::end(map), cls.fl_map);
    const hid_t registered = H5FDregister(&cls);
    if (registered < 0) throw std::runtime_error("HDF5: cannot register the journal file driver");
    return registered;
  }();
  return id;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

fs::path resolve_results_path(const std::string& path) {
  fs::path p = fs::absolute(path);
  for (int hops = 0; hops < 40; ++hops) {
    std::error_code ec;
    if (!fs::is_symlink(p, ec)) return p.lexically_normal();
    const fs::path next = fs::read_symlink(p, ec);
    if (ec) return p.lexically_normal();
    p = next.is_absolute() ? next : p.parent_path() / next;
  }
  throw UsageError("--results " + path + ": too many levels of symbolic links");
}

// ---------------------------------------------------------------------------------------------
// Locking.

namespace {

bool flock_unsupported(int err) {
  return err == ENOLCK || err == EOPNOTSUPP || err == ENOSYS || err == EINVAL;
}

bool use_link_lock() {
  const char* v = std::getenv("GRAYBENCH_LOCK");
  return v && std::string(v) == "link";
}

/// The holder recorded in a link lock: "host pid".
bool stale_link_lock(const fs::path& lock_path) {
  const int fd = ::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[512] = {};
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return false;
  const std::string text(buf, static_cast<std::size_t>(n));
  const auto space = text.rfind(' ');
  if (space == std::string::npos) return false;
  const std::string host = text.substr(0, space);
  const long pid = std::strtol(text.c_str() + space + 1, nullptr, 10);
  if (host != hostname() || pid <= 0) return false;  // another node: cannot tell
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

}  // namespace

ResultsLock::ResultsLock(const fs::path& target) : lock_path_(with_suffix(target, ".lock")) {
  if (!use_link_lock()) {
    for (;;) {
      int fd = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (fd < 0 && errno == EACCES) fd = ::open(lock_path_.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) throw_errno("open lock file " + lock_path_.string());
      int rc;
      do {
        rc = ::flock(fd, LOCK_EX);
      } while (rc != 0 && errno == EINTR);
      if (rc != 0) {
        const int err = errno;
        struct stat st {};
        const bool mine = ::fstat(fd, &st) == 0 && st.st_uid == ::geteuid() && st.st_size == 0;
        ::close(fd);
        if (!flock_unsupported(err)) {
          errno = err;
          throw_errno("flock " + lock_path_.string());
        }
        if (mine) ::unlink(lock_path_.c_str());
        break;  // no flock on this file system: the link lock below
      }
      // The previous holder may have removed the file we waited on: lock the one in place.
      struct stat held {
      }, now{};
      if (::fstat(fd, &held) == 0 && ::stat(lock_path_.c_str(), &now) == 0 &&
          held.st_ino == now.st_ino && held.st_dev == now.st_dev) {
        fd_ = fd;
        return;
      }
      ::close(fd);
    }
  }
  // Link lock: link(2) is atomic on NFS too; the unique file's link count settles a lost reply.
  link_ = true;
  unique_path_ =
      with_suffix(lock_path_, "." + hostname() + "." + std::to_string(::getpid()) + "." +
                                  std::to_string(reinterpret_cast<std::uintptr_t>(this)));
  {
    Fd f = Fd::open(unique_path_, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const std::string holder = hostname() + " " + std::to_string(::getpid());
    write_fully(f.get(), holder.data(), holder.size());
    f.close();
  }
  const auto since = std::chrono::steady_clock::now();
  bool told = false;
  for (;;) {
    if (::link(unique_path_.c_str(), lock_path_.c_str()) == 0) return;
    const int err = errno;
    struct stat st {};
    if (::stat(unique_path_.c_str(), &st) == 0 && st.st_nlink == 2) return;
    if (err != EEXIST) {
      ::unlink(unique_path_.c_str());
      errno = err;
      throw_errno("link lock " + lock_path_.string());
    }
    if (stale_link_lock(lock_path_)) {
      // Rename first, so two breakers never remove a fresh lock taken in between.
      const fs::path broken = with_suffix(unique_path_, ".stale");
      if (::rename(lock_path_.c_str(), broken.c_str()) == 0) ::unlink(broken.c_str());
      continue;
    }
    if (!told && std::chrono::steady_clock::now() - since > std::chrono::seconds(10)) {
      std::cerr << "graybench: waiting for the lock " << lock_path_.string()
                << " (another job is saving; remove the file if its holder is dead)\n";
      told = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

ResultsLock::~ResultsLock() {
  if (link_) {
    ::unlink(lock_path_.c_str());
    ::unlink(unique_path_.c_str());
    return;
  }
  struct stat st {};
  // Remove the lock file while still holding it (waiters notice the inode change), unless it
  // belongs to someone else (a lock file left by an older version): never touch that one.
  if (::fstat(fd_, &st) == 0 && st.st_uid == ::geteuid()) ::unlink(lock_path_.c_str());
  ::close(fd_);
}

void ResultsLock::probe(const fs::path& target) {
  const fs::path lock_path = with_suffix(target, ".lock");
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ::close(fd);
    ::unlink(lock_path.c_str());
    return;
  }
  if (errno == EEXIST) {
    fd = ::open(lock_path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
      ::close(fd);
      return;
    }
  }
  throw UsageError("--results lock file " + lock_path.string() +
                   " cannot be created or opened: " + errno_text(errno));
}

// ---------------------------------------------------------------------------------------------
// Rollback.

bool recover_interrupted_save(const fs::path& target, Rollback* done) {
  Rollback report;
  const fs::path jpath = with_suffix(target, ".journal");
  const int j = ::open(jpath.c_str(), O_RDONLY | O_CLOEXEC);
  if (j < 0) {
    if (errno == ENOENT) {
      if (done) *done = report;
      return false;
    }
    throw_errno("open journal " + jpath.string());
  }
  Fd journal(j);
  report.journal = true;
  JournalHeader h{};
  const std::size_t got = read_fully(journal.get(), &h, sizeof h);
  const bool valid = got == sizeof h && std::memcmp(h.magic, kMagic, sizeof kMagic) == 0 &&
                     fnv1a(&h, offsetof(JournalHeader, check)) == h.check;
  report.header_valid = valid;
  if (valid) {
    report.created = h.created != 0;
    report.base_size = h.base_size;
    // The header is durable before the results file is opened, so without it nothing changed.
    if (h.created) {
      if (::unlink(target.c_str()) != 0 && errno != ENOENT)
        throw_errno("unlink " + target.string());
    } else {
      Fd file = Fd::open(target, O_RDWR | O_CLOEXEC);
      struct stat st {};
      if (::fstat(file.get(), &st) == 0)
        report.size_before = static_cast<std::uint64_t>(st.st_size);
      for (;;) {
        std::uint64_t head[2];
        if (read_fully(journal.get(), head, sizeof head) != sizeof head) break;
        const std::uint64_t len = head[1];
        if (len > h.base_size || head[0] > h.base_size - len) break;  // torn or foreign
        std::vector<char> bytes(len);
        std::uint64_t check = 0;
        if (read_fully(journal.get(), bytes.data(), len) != len) break;
        if (read_fully(journal.get(), &check, 8) != 8) break;
        if (fnv1a(bytes.data(), len, fnv1a(head, sizeof head)) != check) break;
        if (!pwrite_fully(file.get(), bytes.data(), len, head[0])) {
          throw_errno("roll back " + target.string());
        }
        ++report.records;
        report.bytes += len;
      }
      if (::ftruncate(file.get(), static_cast<off_t>(h.base_size)) != 0) {
        throw_errno("roll back (truncate) " + target.string());
      }
      if (::fsync(file.get()) != 0) throw_errno("fsync " + target.string());
      file.close();
    }
  }
  journal.close();
  if (::unlink(jpath.c_str()) != 0 && errno != ENOENT) throw_errno("unlink " + jpath.string());
  fsync_dir_of(target);
  if (done) *done = report;
  return valid;
}

// ---------------------------------------------------------------------------------------------

JournaledFile::JournaledFile(const fs::path& target)
    : target_(target), session_(std::make_unique<Session>()) {
  Session& s = *session_;
  s.target = target;
  struct stat st {};
  if (::stat(target.c_str(), &st) == 0) {
    s.base = static_cast<std::uint64_t>(st.st_size);
  } else if (errno == ENOENT) {
    s.created = true;
  } else {
    throw_errno("stat " + target.string());
  }
  const fs::path jpath = with_suffix(target, ".journal");
  {
    Fd j = Fd::open(jpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    JournalHeader h{};
    std::memcpy(h.magic, kMagic, sizeof kMagic);
    h.base_size = s.base;
    h.created = s.created ? 1 : 0;
    h.check = fnv1a(&h, offsetof(JournalHeader, check));
    try {
      write_fully(j.get(), &h, sizeof h);
      if (::fsync(j.get()) != 0) throw_errno("fsync " + jpath.string());
    } catch (...) {
      j.reset();
      ::unlink(jpath.c_str());
      throw;
    }
    s.journal = j.release();
  }
  fsync_dir_of(target);

  try {
    const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) throw std::runtime_error("HDF5: H5Pcreate");
    const DriverInfo info{&s};
    herr_t ok = H5Pset_driver(fapl, driver_id(), &info);
    if (ok >= 0) ok = H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    if (ok >= 0) {
      // Keep every metadata block in the cache until the final flush: the in-place updates
      // (which leave the file unreadable to other readers until rolled back, if the writer is
      // killed among them) then all happen in the last milliseconds of the save.
      H5AC_cache_config_t mdc{};
      mdc.version = H5AC__CURR_CACHE_CONFIG_VERSION;
      ok = H5Pget_mdc_config(fapl, &mdc);
      if (ok >= 0) {
        mdc.evictions_enabled = false;
        mdc.incr_mode = H5C_incr__off;
        mdc.flash_incr_mode = H5C_flash_incr__off;
        mdc.decr_mode = H5C_decr__off;
        mdc.set_initial_size = true;
        mdc.initial_size = std::size_t{16} * 1024 * 1024;
        mdc.max_size = std::max<std::size_t>(mdc.max_size, mdc.initial_size);
        ok = H5Pset_mdc_config(fapl, &mdc);
      }
    }
    if (ok >= 0) {
      file_ = s.created ? H5Fcreate(target.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, fapl)
                        : H5Fopen(target.c_str(), H5F_ACC_RDWR, fapl);
    }
    H5Pclose(fapl);
    if (ok < 0 || file_ < 0) {
      file_ = H5I_INVALID_HID;
      throw std::runtime_error(s.error.empty() ? "HDF5 cannot open " + target.string() : s.error);
    }
    s.error.clear();  // HDF5 probes without O_CREAT before creating: that miss is no error
    s.discard = false;
  } catch (...) {
    abandon();
    throw;
  }
}

std::string JournaledFile::io_error() const {
  return session_ ? session_->error : last_error_;
}

bool JournaledFile::created() const {
  return session_->created;
}

void JournaledFile::commit(const std::function<void()>& before_commit) {
  Session& s = *session_;
  try {
    // A failed flush leaves dirty metadata that the close would retry (and HDF5's shutdown after
    // it): abandon() closes in discard mode instead, so nothing is left open.
    if (H5Fflush(file_, H5F_SCOPE_GLOBAL) < 0 || !s.error.empty()) {
      throw std::runtime_error(s.error.empty() ? "HDF5 cannot write " + target_.string() : s.error);
    }
    if (H5Fclose(std::exchange(file_, H5I_INVALID_HID)) < 0 || !s.error.empty()) {
      throw std::runtime_error(s.error.empty() ? "HDF5 cannot close " + target_.string() : s.error);
    }
    {
      Fd fd = Fd::open(target_, O_RDONLY | O_CLOEXEC);
      if (::fsync(fd.get()) != 0) throw_errno("fsync " + target_.string());
      fd.close();
    }
    if (before_commit) before_commit();
  } catch (...) {
    abandon();
    throw;
  }
  // The commit point: without the journal the new runs are part of the file.
  ::close(std::exchange(s.journal, -1));
  if (::unlink(with_suffix(target_, ".journal").c_str()) != 0) {
    throw_errno("unlink journal " + with_suffix(target_, ".journal").string());
  }
  fsync_dir_of(target_);
  session_.reset();
}

void JournaledFile::abandon() noexcept {
  if (!session_) return;
  Session& s = *session_;
  bool keep_alive = false;
  s.discard = true;
  if (file_ >= 0) {
    // Strong close degree: every object of the file goes too; writes are dropped, so the close
    // cannot fail for lack of space and nothing is left for HDF5's shutdown to flush.
    herr_t closed = -1;
    H5E_BEGIN_TRY {
      // An object whose close failed (its last chunk could not be written) is still
      // registered and would be closed again by HDF5's shutdown, in a state it crashes on
      // (H5D_close from H5_term_library). Writes are dropped now: close it for good.
      const unsigned kinds = H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE | H5F_OBJ_ATTR;
      const ssize_t n = H5Fget_obj_count(file_, kinds);
      if (n > 0) {
        std::vector<hid_t> ids(static_cast<std::size_t>(n));
        const ssize_t got = H5Fget_obj_ids(file_, kinds, ids.size(), ids.data());
        for (ssize_t k = 0; k < got; ++k) {
          while (H5Iis_valid(ids[static_cast<std::size_t>(k)]) > 0 &&
                 H5Idec_ref(ids[static_cast<std::size_t>(k)]) >= 0) {
          }
        }
      }
      closed = H5Fclose(file_);
    }
    H5E_END_TRY;
    file_ = H5I_INVALID_HID;
    if (closed < 0) keep_alive = true;
  }
  if (s.journal >= 0) ::close(std::exchange(s.journal, -1));
  try {
    recover_interrupted_save(target_);
  } catch (const std::exception& e) {
    std::cerr << "graybench: cannot roll back the failed save of " << target_.string() << ": "
              << e.what() << " (" << with_suffix(target_, ".journal").string()
              << " is kept; the next save retries)\n";
  }
  last_error_ = s.error;
  if (keep_alive) {
    // HDF5 may still hold the file and write to it at shutdown: the driver must find its
    // session (in discard mode) until the process ends.
    static std::vector<std::unique_ptr<Session>> lingering;
    lingering.push_back(std::move(session_));
  }
  session_.reset();
}

JournaledFile::~JournaledFile() {
  abandon();
}

}  // namespace graybench
