#include "h5/results.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <stdexcept>

#include "common/errors.hpp"
#include "common/posix.hpp"
#include "common/utf8.hpp"
#include "h5/handle.hpp"
#include "timing/build_info.hpp"
#include "timing/metadata.hpp"

namespace graybench {

namespace fs = std::filesystem;
using h5::check;
using h5::check_status;
using h5::Handle;

namespace {

// In-memory row layouts; vlen strings travel as char*.
struct ImageRow {
  std::uint64_t image;
  const char* path;
  std::int32_t rank, worker, repeat;
  std::uint32_t width, height, channels, bit_depth;
  std::uint64_t bytes_in, bytes_out;
  std::int32_t status;
  const char* error;
  std::uint64_t checksum;
  double t_start, t_end, read_s, decode_s, convert_s, encode_s, write_s, queue_wait_s, ipc_s;
  std::uint64_t ipc_bytes;
  std::int32_t attempts;
};

struct RankRow {
  std::int32_t rank;
  const char* host;
  std::uint64_t n_images, n_failed;
  double wall_s, compute_s, distribute_s, gather_s, idle_s, setup_s, teardown_s, user_s, sys_s;
  std::int64_t max_rss_kb;
  const char* cpus;
  const char* worker_cpus;
};

struct InputRow {
  const char* path;
  std::uint64_t size;
};

class CompoundBuilder {
 public:
  explicit CompoundBuilder(std::size_t size)
      : type_(H5Tcreate(H5T_COMPOUND, size), "H5Tcreate"), str_(h5::vlen_string_type()) {}
  CompoundBuilder& add(const char* name, std::size_t offset, hid_t type) {
    check_status(H5Tinsert(type_, name, offset, type), name);
    return *this;
  }
  CompoundBuilder& str(const char* name, std::size_t offset) { return add(name, offset, str_); }
  Handle take() { return std::move(type_); }

 private:
  Handle type_;
  Handle str_;
};

#define GB_FIELD(T, f) #f, offsetof(T, f)

/// A string as the file stores it (fields are declared UTF-8): escape_utf8() where needed,
/// the original otherwise; `keep` owns the escaped copies for as long as the rows point at them.
const char* stored(const std::string& s, std::deque<std::string>& keep) {
  if (s.find('\\') == std::string::npos && is_valid_utf8(s)) return s.c_str();
  return keep.emplace_back(escape_utf8(s)).c_str();
}

Handle image_type() {
  CompoundBuilder b(sizeof(ImageRow));
  b.add(GB_FIELD(ImageRow, image), H5T_NATIVE_UINT64)
      .str(GB_FIELD(ImageRow, path))
      .add(GB_FIELD(ImageRow, rank), H5T_NATIVE_INT32)
      .add(GB_FIELD(ImageRow, worker), H5T_NATIVE_INT32)
      .add(GB_FIELD(ImageRow, repeat), H5T_NATIVE_INT32)
      .add(GB_FIELD(ImageRow, width), H5T_NATIVE_UINT32)
      .add(GB_FIELD(ImageRow, height), H5T_NATIVE_UINT32)
      .add(GB_FIELD(ImageRow, channels), H5T_NATIVE_UINT32)
      .add(GB_FIELD(ImageRow, bit_depth), H5T_NATIVE_UINT32)
      .add(GB_FIELD(ImageRow, bytes_in), H5T_NATIVE_UINT64)
      .add(GB_FIELD(ImageRow, bytes_out), H5T_NATIVE_UINT64)
      .add(GB_FIELD(ImageRow, status), H5T_NATIVE_INT32)
      .str(GB_FIELD(ImageRow, error))
      .add(GB_FIELD(ImageRow, checksum), H5T_NATIVE_UINT64)
      .add(GB_FIELD(ImageRow, t_start), H5T_NATIVE_DOUBLE)
      .add(GB_FIELD(ImageRow, t_end), H5T_NATIVE_DOUBLE)
      .add(GB_FIELD(ImageRow, read_s), H5T_NATIVE_DOUBLE)
      .add(GB_FIELD(ImageRow, decode_s), H5T_NATIVE_DOUBLE)
      .add(GB_FIELD(ImageRow, convert_s), H5T_NATIVE_DOUBLE)
      .add(GB_FIELD(ImageRow, encode_s), H5T_NATIVE_DOUBLE)
      .add(GB_FIELD(ImageRow, write_s), H5T_NATIVE_DOUBLE)
      .add(GB_FIELD(ImageRow, queue_wait_s), H5T_NATIVE_DOUBLE)
      .add(GB_FIELD(ImageRow, ipc_s), H5T_NATIVE_DOUBLE)
      .add(GB_FIELD(ImageRow, ipc_bytes), H5T_NATIVE_UINT64)
      .add(GB_FIELD(ImageRow, attempts), H5T_NATIVE_INT32);
  return b.take();
}

Handle rank_type() {
  CompoundBuilder b(sizeof(RankRow));
  b.add(GB_FIELD(RankRow, rank), H5T_NATIVE_INT32)
      .str(GB_FIELD(RankRow, host))
      .add(GB_FIELD(RankRow, n_images), H5T_NATIVE_UINT64)
      .add(GB_FIELD(RankRow, n_failed), H5T_NATIVE_UINT64)
      .add(GB_FIELD(RankRow, wall_s), H5T_NATIVE_DOUBLE)
      .add(GB_FIELD(RankRow, compute_s), H5T_NATIVE_DOUBLE)
      .add(GB_FIELD(RankRow, distribute_s), H5T_NATIVE_DOUBLE)
      .add(GB_FIELD(RankRow, gather_s), H5T_NATIVE_DOUBLE)
      .add(GB_FIELD(RankRow, idle_s), H5T_NATIVE_DOUBLE)
      .add(GB_FIELD(RankRow, setup_s), H5T_NATIVE_DOUBLE)
      .add(GB_FIELD(RankRow, teardown_s), H5T_NATIVE_DOUBLE)
      .add(GB_FIELD(RankRow, user_s), H5T_NATIVE_DOUBLE)
      .add(GB_FIELD(RankRow, sys_s), H5T_NATIVE_DOUBLE)
      .add(GB_FIELD(RankRow, max_rss_kb), H5T_NATIVE_INT64)
      .str(GB_FIELD(RankRow, cpus))
      .str(GB_FIELD(RankRow, worker_cpus));
  return b.take();
}

Handle input_type() {
  CompoundBuilder b(sizeof(InputRow));
  b.str(GB_FIELD(InputRow, path)).add(GB_FIELD(InputRow, size), H5T_NATIVE_UINT64);
  return b.take();
}

#undef GB_FIELD

/// Writes `rows` as a 1-D dataset `name` under `parent`, packed on disk, chunked and
/// compressed when large.
template <typename Row>
void write_table(hid_t parent, const char* name, hid_t mem_type, const std::vector<Row>& rows) {
  Handle file_type(H5Tcopy(mem_type), "H5Tcopy");
  check_status(H5Tpack(file_type), "H5Tpack");
  const hsize_t n = rows.size();
  Handle space(H5Screate_simple(1, &n, nullptr), "H5Screate_simple");
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate");
  if (n >= 1024) {
    const hsize_t chunk = std::min<hsize_t>(n, 8192);
    check_status(H5Pset_chunk(dcpl, 1, &chunk), "H5Pset_chunk");
    check_status(H5Pset_deflate(dcpl, 4), "H5Pset_deflate");
  }
  Handle ds(H5Dcreate2(parent, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), name);
  if (n > 0) {
    check_status(H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()), name);
  }
}

template <typename Row>
std::vector<Row> read_table(hid_t parent, const char* name, hid_t mem_type) {
  Handle ds(H5Dopen2(parent, name, H5P_DEFAULT), name);
  Handle space(H5Dget_space(ds), "H5Dget_space");
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  if (n < 0) h5::fail(name);
  std::vector<Row> rows(static_cast<std::size_t>(n));
  if (n > 0) {
    check_status(H5Dread(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()), name);
  }
  return rows;
}

/// Frees the strings HDF5 allocated while reading `rows`.
template <typename Row>
void reclaim(hid_t mem_type, std::vector<Row>& rows) {
  if (rows.empty()) return;
  const hsize_t n = rows.size();
  Handle space(H5Screate_simple(1, &n, nullptr), "H5Screate_simple");
#if H5_VERSION_GE(1, 12, 0)
  H5Treclaim(mem_type, space, H5P_DEFAULT, rows.data());
#else
  H5Dvlen_reclaim(mem_type, space, H5P_DEFAULT, rows.data());
#endif
}

std::string cstr(const char* s) {
  return s ? s : "";
}

void write_attr(hid_t obj, const std::string& name, const AttrValue& value) {
  Handle space(H5Screate(H5S_SCALAR), "H5Screate");
  if (const auto* i = std::get_if<std::int64_t>(&value)) {
    Handle a(H5Acreate2(obj, name.c_str(), H5T_NATIVE_INT64, space, H5P_DEFAULT, H5P_DEFAULT),
             name.c_str());
    check_status(H5Awrite(a, H5T_NATIVE_INT64, i), name.c_str());
  } else if (const auto* d = std::get_if<double>(&value)) {
    Handle a(H5Acreate2(obj, name.c_str(), H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT),
             name.c_str());
    check_status(H5Awrite(a, H5T_NATIVE_DOUBLE, d), name.c_str());
  } else {
    Handle type = h5::vlen_string_type();
    Handle a(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), name.c_str());
    std::deque<std::string> keep;
    const char* s = stored(std::get<std::string>(value), keep);
    check_status(H5Awrite(a, type, &s), name.c_str());
  }
}

herr_t read_attr_cb(hid_t obj, const char* name, const H5A_info_t*, void* data) {
  auto* attrs = static_cast<Attributes*>(data);
  Handle a(H5Aopen(obj, name, H5P_DEFAULT), name);
  Handle type(H5Aget_type(a), name);
  Handle space(H5Aget_space(a), name);
  if (H5Sget_simple_extent_npoints(space) != 1) return 0;  // only scalars are ours
  const H5T_class_t cls = H5Tget_class(type);
  if (cls == H5T_INTEGER) {
    std::int64_t v = 0;
    check_status(H5Aread(a, H5T_NATIVE_INT64, &v), name);
    attrs->set(name, v);
  } else if (cls == H5T_FLOAT) {
    double v = 0;
    check_status(H5Aread(a, H5T_NATIVE_DOUBLE, &v), name);
    attrs->set(name, v);
  } else if (cls == H5T_STRING && H5Tis_variable_str(type) > 0) {
    Handle mem = h5::vlen_string_type();
    char* s = nullptr;
    check_status(H5Aread(a, mem, &s), name);
    attrs->set(name, cstr(s));
    H5free_memory(s);
  } else if (cls == H5T_STRING) {
    std::string s(H5Tget_size(type), '\0');
    check_status(H5Aread(a, type, s.data()), name);
    s.resize(std::min(s.size(), s.find('\0')));
    attrs->set(name, s);
  }
  return 0;
}

Attributes read_attrs(hid_t obj) {
  Attributes attrs;
  hsize_t idx = 0;
  check_status(H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &idx, read_attr_cb, &attrs),
               "H5Aiterate2");
  return attrs;
}

bool link_exists(hid_t loc, const char* path) {
  return H5Lexists(loc, path, H5P_DEFAULT) > 0;
}

#if H5_VERSION_GE(1, 12, 0)
using LinkInfo = H5L_info2_t;
#define GB_H5LITERATE H5Literate2
#else
using LinkInfo = H5L_info_t;
#define GB_H5LITERATE H5Literate
#endif

herr_t collect_name(hid_t, const char* name, const LinkInfo*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}

std::vector<std::string> group_members(hid_t group) {
  std::vector<std::string> names;
  hsize_t idx = 0;
  check_status(GB_H5LITERATE(group, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_name, &names),
               "H5Literate2");
  std::sort(names.begin(), names.end());
  return names;
}

std::string schema_of(hid_t file) {
  if (H5Aexists(file, "schema") <= 0) return "";
  return read_attrs(file).str("schema");
}

void fsync_path(const fs::path& p, int flags) {
  Fd fd = Fd::open(p, flags | O_CLOEXEC);
  if (::fsync(fd.get()) != 0) throw_errno("fsync " + p.string());
  fd.close();
}

/// Writes the input list as /input_sets/<fingerprint> (once) and returns that path; /inputs is
/// a hard link to the file's first set.
std::string write_inputs(hid_t file, const std::vector<InputFile>& inputs) {
  const std::string fp = fingerprint(inputs);
  const std::string path = "/input_sets/" + fp;
  if (!link_exists(file, "/input_sets")) {
    Handle g(H5Gcreate2(file, "/input_sets", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "input_sets");
  }
  if (!link_exists(file, path.c_str())) {
    std::deque<std::string> keep;
    std::vector<InputRow> rows;
    rows.reserve(inputs.size());
    for (const auto& f : inputs)
      rows.push_back({stored(f.path, keep), f.size});
    Handle type = input_type();
    Handle g(H5Gopen2(file, "/input_sets", H5P_DEFAULT), "input_sets");
    write_table(g, fp.c_str(), type, rows);
    Handle ds(H5Dopen2(g, fp.c_str(), H5P_DEFAULT), fp.c_str());
    write_attr(ds, "fingerprint", fp);
  }
  if (!link_exists(file, "/inputs")) {
    check_status(H5Lcreate_hard(file, path.c_str(), file, "/inputs", H5P_DEFAULT, H5P_DEFAULT),
                 "link /inputs");
  }
  return path;
}

void write_run(hid_t runs, const std::string& name, const RunResult& run,
               const std::string& inputs_path) {
  Handle g(H5Gcreate2(runs, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), name.c_str());
  for (const auto& [k, v] : run.attrs.items())
    write_attr(g, k, v);
  write_attr(g, "inputs", inputs_path);

  std::deque<std::string> keep;
  std::vector<ImageRow> images;
  images.reserve(run.images.size());
  for (const auto& r : run.images) {
    const char* path = stored(r.path, keep);
    const char* error = stored(r.error, keep);
    images.push_back({r.image,     path,           r.rank,     r.worker,    r.repeat,
                      r.width,     r.height,       r.channels, r.bit_depth, r.bytes_in,
                      r.bytes_out, r.status,       error,      r.checksum,  r.t_start,
                      r.t_end,     r.read_s,       r.decode_s, r.convert_s, r.encode_s,
                      r.write_s,   r.queue_wait_s, r.ipc_s,    r.ipc_bytes, r.attempts});
  }
  Handle itype = image_type();
  write_table(g, "images", itype, images);

  std::vector<RankRow> ranks;
  ranks.reserve(run.ranks.size());
  for (const auto& r : run.ranks) {
    ranks.push_back({r.rank, stored(r.host, keep), r.n_images, r.n_failed, r.wall_s, r.compute_s,
                     r.distribute_s, r.gather_s, r.idle_s, r.setup_s, r.teardown_s, r.user_s,
                     r.sys_s, r.max_rss_kb, stored(r.cpus, keep), stored(r.worker_cpus, keep)});
  }
  Handle rtype = rank_type();
  write_table(g, "ranks", rtype, ranks);
}

int next_run_number(hid_t runs) {
  int next = 1;
  for (const auto& n : group_members(runs)) {
    int k = 0;
    if (std::sscanf(n.c_str(), "run-%d", &k) == 1) next = std::max(next, k + 1);
  }
  return next;
}

}  // namespace

void check_results_target(const std::string& path) {
  h5::ErrorSilencer quiet;
  const fs::path p(path);
  std::error_code ec;
  if (fs::exists(p, ec)) {
    if (fs::is_directory(p, ec)) throw UsageError("--results is a directory: " + path);
    if (H5Fis_hdf5(path.c_str()) <= 0) {
      throw UsageError("--results " + path + " exists and is not an HDF5 file; not touching it");
    }
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) throw UsageError("--results " + path + " cannot be opened as HDF5");
    Handle file(f, "H5Fopen");
    const std::string schema = schema_of(file);
    if (schema.rfind("graybench/", 0) != 0) {
      throw UsageError("--results " + path + " is not a graybench results file (schema '" + schema +
                       "')");
    }
    if (schema != kSchema) {
      throw UsageError("--results " + path + " has schema " + schema + ", this build writes " +
                       kSchema + "; use a new file");
    }
  }
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec))
    throw UsageError("--results directory does not exist: " + dir.string());
  if (::access(dir.c_str(), W_OK) != 0) {
    throw UsageError("--results directory is not writable: " + dir.string());
  }
}

std::vector<std::string> append_runs(const std::string& path, const std::vector<InputFile>& inputs,
                                     const std::vector<RunResult>& runs,
                                     const std::function<void()>& before_commit) {
  h5::ErrorSilencer quiet;
  std::error_code ec;
  // Through a symlink, update the file it names (rename would replace the link itself).
  fs::path target = fs::weakly_canonical(path, ec);
  if (ec) target = path;
  // Unique across the nodes of a shared file system, where pids repeat.
  const fs::path tmp = target.string() + ".tmp." + hostname() + "." + std::to_string(::getpid());
  std::vector<std::string> names;
  try {
    // Concurrent writers (several jobs appending to one file) take turns: without the lock the
    // second rename would drop the first writer's runs. The lock file stays beside the results.
    Fd lock = Fd::open(target.string() + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    while (::flock(lock.get(), LOCK_EX) != 0) {
      if (errno != EINTR) throw_errno("flock " + target.string() + ".lock");
    }
    fs::remove(tmp, ec);
    const bool existed = fs::exists(target, ec);
    if (existed) fs::copy_file(target, tmp, fs::copy_options::overwrite_existing);
    {
      Handle fapl(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate");
      Handle file =
          existed ? Handle(H5Fopen(tmp.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), path.c_str())
                  : Handle(H5Fcreate(tmp.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, fapl), path.c_str());
      if (existed) {
        const std::string schema = schema_of(file);
        if (schema != kSchema) {
          throw std::runtime_error("results file " + path + " has schema '" + schema +
                                   "', expected " + kSchema);
        }
      } else {
        write_attr(file, "schema", std::string(kSchema));
        write_attr(file, "created", iso8601_utc(std::chrono::system_clock::now()));
        write_attr(file, "graybench_version", std::string(version()));
        Handle g(H5Gcreate2(file, "/runs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "/runs");
      }
      const std::string inputs_path = write_inputs(file, inputs);
      Handle runs_group(H5Gopen2(file, "/runs", H5P_DEFAULT), "/runs");
      int next = next_run_number(runs_group);
      for (const auto& run : runs) {
        char name[32];
        std::snprintf(name, sizeof name, "run-%05d", next++);
        write_run(runs_group, name, run, inputs_path);
        names.push_back(name);
      }
      runs_group.reset();
      check_status(H5Fflush(file, H5F_SCOPE_GLOBAL), "H5Fflush");
      // Close explicitly so a close failure (lost data) is an error, not a silent dec_ref.
      if (H5Fclose(file.release()) < 0) h5::fail("H5Fclose " + path);
    }
    fsync_path(tmp, O_RDONLY);
    if (before_commit) before_commit();
    if (::rename(tmp.c_str(), target.c_str()) != 0) throw_errno("rename " + tmp.string());
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    fsync_path(dir, O_RDONLY | O_DIRECTORY);
  } catch (const std::exception& e) {
    fs::remove(tmp, ec);
    throw std::runtime_error("cannot save results to " + path + ": " + e.what());
  }
  return names;
}

ResultsFile read_results(const std::string& path) {
  h5::ErrorSilencer quiet;
  try {
    ResultsFile out;
    Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "H5Fopen");
    out.root = read_attrs(file);
    if (link_exists(file, "/inputs")) {
      Handle type = input_type();
      auto rows = read_table<InputRow>(file, "/inputs", type);
      for (const auto& r : rows)
        out.inputs.push_back({cstr(r.path), r.size, ""});
      reclaim(type, rows);
    }
    Handle runs(H5Gopen2(file, "/runs", H5P_DEFAULT), "/runs");
    out.run_names = group_members(runs);
    Handle itype = image_type();
    Handle rtype = rank_type();
    for (const auto& name : out.run_names) {
      Handle g(H5Gopen2(runs, name.c_str(), H5P_DEFAULT), name.c_str());
      RunResult run;
      run.attrs = read_attrs(g);
      auto images = read_table<ImageRow>(g, "images", itype);
      for (const auto& r : images) {
        run.images.push_back({r.image, cstr(r.path), r.rank, r.worker, r.repeat, r.width, r.height,
                              r.channels, r.bit_depth, r.bytes_in, r.bytes_out, r.status,
                              cstr(r.error), r.checksum, r.t_start, r.t_end, r.read_s, r.decode_s,
                              r.convert_s, r.encode_s, r.write_s, r.queue_wait_s, r.ipc_s,
                              r.ipc_bytes,
                              // Files from before the column existed read 0: one attempt.
                              r.attempts > 0 ? r.attempts : 1});
      }
      reclaim(itype, images);
      auto ranks = read_table<RankRow>(g, "ranks", rtype);
      for (const auto& r : ranks) {
        run.ranks.push_back({r.rank, cstr(r.host), r.n_images, r.n_failed, r.wall_s, r.compute_s,
                             r.distribute_s, r.gather_s, r.idle_s, r.setup_s, r.teardown_s,
                             r.user_s, r.sys_s, r.max_rss_kb, cstr(r.cpus), cstr(r.worker_cpus)});
      }
      reclaim(rtype, ranks);
      out.runs.push_back(std::move(run));
    }
    return out;
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot read results " + path + ": " + e.what());
  }
}

}  // namespace graybench
