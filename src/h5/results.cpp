#include "h5/results.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <variant>

#include "core/errors.hpp"
#include "core/posix.hpp"
#include "core/utf8.hpp"
#include "h5/handle.hpp"
#include "h5/store.hpp"
#include "io/listing.hpp"
#include "kernel/checksum.hpp"
#include "timing/build_info.hpp"
#include "timing/metadata.hpp"

namespace graybench {

namespace fs = std::filesystem;
using h5::check;
using h5::Handle;

namespace {

/// A string as the file stores it (every string field is declared UTF-8): escape_utf8() where
/// needed (docs/schema.md, "Strings"), else the original; `keep` owns the escaped copies.
const char* stored_string(const std::string& s, std::deque<std::string>& keep) {
  if (s.find('\\') == std::string::npos && is_valid_utf8(s)) return s.c_str();
  return keep.emplace_back(escape_utf8(s)).c_str();
}

/// A type for HDF5 enum fields: ImageStatus by its name table (h5dump shows the names).
Handle status_enum_type() {
  Handle t(H5Tenum_create(H5T_NATIVE_INT32), "create the status enum type");
  for (const auto& entry : names_of<ImageStatus>()) {
    if (entry.alias) continue;
    const auto v = static_cast<std::int32_t>(entry.value);
    check(H5Tenum_insert(t, std::string(entry.name).c_str(), &v), "add a status enum value");
  }
  return t;
}

/// The memory layout of a record table's stored fields, in table order: each field at its
/// natural alignment, strings as char*. Built from the table alone (writing) or restricted to
/// the fields a file's dataset has (reading an older layout).
template <typename R>
class RowLayout {
 public:
  /// file_type < 0: every stored field. Else only those the file's compound type has, with
  /// enum fields read as integers where the file stores integers (graybench/1).
  explicit RowLayout(hid_t file_type = H5I_INVALID_HID) {
    std::map<std::string, H5T_class_t> in_file;
    if (file_type >= 0) in_file = members(file_type);
    for (const auto& f : fields_of<R>()) {
      if (!f.stored) continue;
      bool as_int = false;
      if (file_type >= 0) {
        const auto it = in_file.find(std::string(f.name));
        if (it == in_file.end()) continue;
        as_int = it->second == H5T_INTEGER;
      }
      const std::size_t n = width(f);
      size_ = (size_ + n - 1) / n * n;
      slots_.push_back({&f, size_, as_int});
      size_ += n;
    }
    size_ = (size_ + 7) / 8 * 8;
  }

  std::size_t size() const { return size_; }

  /// The compound memory type of this layout.
  Handle mem_type() const {
    Handle t(H5Tcreate(H5T_COMPOUND, size_), "create a compound type");
    Handle str = h5::vlen_string_type();
    Handle status = status_enum_type();
    for (const auto& s : slots_) {
      const std::string name(s.field->name);
      hid_t member = H5I_INVALID_HID;
      switch (s.field->member.index()) {
        case 0:
          member = H5T_NATIVE_INT32;
          break;
        case 1:
          member = H5T_NATIVE_UINT32;
          break;
        case 2:
          member = H5T_NATIVE_INT64;
          break;
        case 3:
          member = H5T_NATIVE_UINT64;
          break;
        case 4:
          member = H5T_NATIVE_DOUBLE;
          break;
        case 5:
          member = str;
          break;
        default:
          member = s.as_int ? H5T_NATIVE_INT32 : status.get();
          break;
      }
      check(H5Tinsert(t, name.c_str(), s.offset, member), "add compound field " + name);
    }
    return t;
  }

  /// Writes `rec` into `row` (strings point into `rec` or `keep`, which must outlive the
  /// write); strings go through stored_string().
  void pack(const R& rec, std::byte* row, std::deque<std::string>& keep) const {
    for (const auto& s : slots_) {
      std::visit(
          [&](auto m) {
            using T = std::remove_cvref_t<decltype(rec.*m)>;
            if constexpr (std::is_same_v<T, std::string>) {
              const char* p = stored_string(rec.*m, keep);
              std::memcpy(row + s.offset, &p, sizeof p);
            } else {
              std::memcpy(row + s.offset, &(rec.*m), sizeof(T));
            }
          },
          s.field->member);
    }
  }

  /// Reads `row` into `rec`; fields the layout lacks keep their values.
  void unpack(const std::byte* row, R& rec) const {
    for (const auto& s : slots_) {
      std::visit(
          [&](auto m) {
            using T = std::remove_cvref_t<decltype(rec.*m)>;
            if constexpr (std::is_same_v<T, std::string>) {
              const char* p = nullptr;
              std::memcpy(&p, row + s.offset, sizeof p);
              rec.*m = p ? p : "";
            } else {
              std::memcpy(&(rec.*m), row + s.offset, sizeof(T));
            }
          },
          s.field->member);
    }
  }

 private:
  struct Slot {
    const Field<R>* field;
    std::size_t offset;
    bool as_int;  ///< an enum field stored as a plain integer (graybench/1)
  };

  static std::size_t width(const Field<R>& f) {
    return std::visit(
        [](auto m) -> std::size_t {
          using T = std::remove_cvref_t<decltype(std::declval<R>().*m)>;
          return std::is_same_v<T, std::string> ? sizeof(char*) : sizeof(T);
        },
        f.member);
  }

  static std::map<std::string, H5T_class_t> members(hid_t type) {
    std::map<std::string, H5T_class_t> out;
    const int n = check(H5Tget_nmembers(type), "count the dataset's fields");
    for (int k = 0; k < n; ++k) {
      const auto u = static_cast<unsigned>(k);
      std::unique_ptr<char, decltype(&H5free_memory)> name(H5Tget_member_name(type, u),
                                                           &H5free_memory);
      if (!name) h5::fail("read a field name");
      out[name.get()] = check(H5Tget_member_class(type, u), "read a field class");
    }
    return out;
  }

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

/// Frees the strings HDF5 allocated while reading rows into a buffer, whatever happens next.
class VlenReclaim {
 public:
  VlenReclaim(hid_t mem_type, hsize_t n, void* buf) : type_(mem_type), n_(n), buf_(buf) {}
  VlenReclaim(const VlenReclaim&) = delete;
  VlenReclaim& operator=(const VlenReclaim&) = delete;
  ~VlenReclaim() {
    if (n_ == 0) return;
    const hid_t space = H5Screate_simple(1, &n_, nullptr);
    if (space < 0) return;  // a destructor: nothing to report to, and nothing else to free
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(type_, space, H5P_DEFAULT, buf_);
#else
    H5Dvlen_reclaim(type_, space, H5P_DEFAULT, buf_);
#endif
    H5Sclose(space);
  }

 private:
  hid_t type_;
  hsize_t n_;
  void* buf_;
};

/// Writes `rows` as a 1-D compound dataset `name` under `parent`, laid out by R's table, packed
/// on disk, chunked and compressed when large.
template <typename R>
void write_table(hid_t parent, const std::string& name, const std::vector<R>& rows) {
  const RowLayout<R> layout;
  Handle mem_type = layout.mem_type();
  Handle file_type(H5Tcopy(mem_type), "copy the row type of " + name);
  check(H5Tpack(file_type), "pack the row type of " + name);
  const hsize_t n = rows.size();
  Handle space(H5Screate_simple(1, &n, nullptr), "create the dataspace of " + name);
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), "create the creation properties of " + name);
  if (n >= 1024) {
    const hsize_t chunk = std::min<hsize_t>(n, 8192);
    check(H5Pset_chunk(dcpl, 1, &chunk), "set the chunk size of " + name);
    check(H5Pset_deflate(dcpl, 4), "set the compression of " + name);
  }
  // No chunk cache: chunks reach the file inside H5Dwrite, where a failure (disk full) is
  // reported, never later in H5Dclose (whose failure leaves a half-closed dataset behind).
  Handle dapl(H5Pcreate(H5P_DATASET_ACCESS), "create dataset access properties");
  check(H5Pset_chunk_cache(dapl, 0, 0, 1.0), "disable the chunk cache of " + name);
  Handle ds(H5Dcreate2(parent, name.c_str(), file_type, space, H5P_DEFAULT, dcpl, dapl),
            "create dataset " + name);
  if (n == 0) return;
  std::vector<std::byte> buf(rows.size() * layout.size());
  std::deque<std::string> keep;
  for (std::size_t i = 0; i < rows.size(); ++i)
    layout.pack(rows[i], buf.data() + i * layout.size(), keep);
  check(H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()), "write dataset " + name);
}

/// Reads the 1-D compound dataset `name` under `parent` into records: the fields R's table and
/// the file share, by name (a field the file lacks keeps its default).
template <typename R>
std::vector<R> read_table(hid_t parent, const std::string& name) {
  Handle ds(H5Dopen2(parent, name.c_str(), H5P_DEFAULT), "open dataset " + name);
  Handle file_type(H5Dget_type(ds), "get the row type of " + name);
  const RowLayout<R> layout(file_type);
  Handle mem_type = layout.mem_type();
  Handle space(H5Dget_space(ds), "get the dataspace of " + name);
  const hssize_t n = check(H5Sget_simple_extent_npoints(space), "count the rows of " + name);
  std::vector<R> rows(static_cast<std::size_t>(n));
  if (n == 0) return rows;
  std::vector<std::byte> buf(rows.size() * layout.size());
  check(H5Dread(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()), "read dataset " + name);
  const VlenReclaim reclaim(mem_type, static_cast<hsize_t>(n), buf.data());
  for (std::size_t i = 0; i < rows.size(); ++i)
    layout.unpack(buf.data() + i * layout.size(), rows[i]);
  return rows;
}

void write_attr(hid_t obj, const std::string& name, const AttrValue& value) {
  const std::string what = "write attribute " + name;
  Handle space(H5Screate(H5S_SCALAR), what);
  if (const auto* i = std::get_if<std::int64_t>(&value)) {
    Handle a(H5Acreate2(obj, name.c_str(), H5T_NATIVE_INT64, space, H5P_DEFAULT, H5P_DEFAULT),
             what);
    check(H5Awrite(a, H5T_NATIVE_INT64, i), what);
  } else if (const auto* d = std::get_if<double>(&value)) {
    Handle a(H5Acreate2(obj, name.c_str(), H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT),
             what);
    check(H5Awrite(a, H5T_NATIVE_DOUBLE, d), what);
  } else {
    Handle type = h5::vlen_string_type();
    Handle a(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), what);
    std::deque<std::string> keep;
    const char* s = stored_string(std::get<std::string>(value), keep);
    check(H5Awrite(a, type, &s), what);
  }
}

/// Replaces attribute `name` of `obj` (written before) with `value`.
void rewrite_attr(hid_t obj, const std::string& name, const AttrValue& value) {
  if (check(H5Aexists(obj, name.c_str()), "look up attribute " + name) > 0) {
    check(H5Adelete(obj, name.c_str()), "delete attribute " + name);
  }
  write_attr(obj, name, value);
}

/// Reads one scalar attribute into `attrs` (other shapes are not ours and are skipped).
void read_attr(hid_t obj, const char* name, Attributes& attrs) {
  const std::string what = std::string("read attribute ") + name;
  Handle a(H5Aopen(obj, name, H5P_DEFAULT), what);
  Handle type(H5Aget_type(a), what);
  Handle space(H5Aget_space(a), what);
  if (check(H5Sget_simple_extent_npoints(space), what) != 1) return;
  const H5T_class_t cls = check(H5Tget_class(type), what);
  if (cls == H5T_INTEGER) {
    std::int64_t v = 0;
    check(H5Aread(a, H5T_NATIVE_INT64, &v), what);
    attrs.set(name, v);
  } else if (cls == H5T_FLOAT) {
    double v = 0;
    check(H5Aread(a, H5T_NATIVE_DOUBLE, &v), what);
    attrs.set(name, v);
  } else if (cls == H5T_STRING && check(H5Tis_variable_str(type), what) > 0) {
    // HDF5 converts no string between character sets: read in the attribute's own (ASCII from
    // h5py or older writers, UTF-8 from graybench).
    Handle mem = h5::vlen_string_type();
    check(H5Tset_cset(mem, check(H5Tget_cset(type), what)), what);
    char* raw = nullptr;
    check(H5Aread(a, mem, &raw), what);
    const std::unique_ptr<char, decltype(&H5free_memory)> s(raw, &H5free_memory);
    attrs.set(name, std::string(s ? s.get() : ""));
  } else if (cls == H5T_STRING) {
    std::string s(H5Tget_size(type), '\0');
    check(H5Aread(a, type, s.data()), what);
    s.resize(std::min(s.size(), s.find('\0')));
    attrs.set(name, s);
  }
}

struct AttrVisit {
  Attributes attrs;
  h5::CallbackGuard guard;
};

herr_t read_attr_cb(hid_t obj, const char* name, const H5A_info_t*, void* data) noexcept {
  auto* visit = static_cast<AttrVisit*>(data);
  return visit->guard.run([&] {
    read_attr(obj, name, visit->attrs);
    return herr_t{0};
  });
}

Attributes read_attrs(hid_t obj) {
  AttrVisit visit;
  hsize_t idx = 0;
  const herr_t status = H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &idx, read_attr_cb, &visit);
  visit.guard.rethrow();
  check(status, "iterate over attributes");
  return std::move(visit.attrs);
}

bool link_exists(hid_t loc, const std::string& path) {
  return check(H5Lexists(loc, path.c_str(), H5P_DEFAULT), "look up " + path) > 0;
}

#if H5_VERSION_GE(1, 12, 0)
using LinkInfo = H5L_info2_t;
#define GB_H5LITERATE H5Literate2
#else
using LinkInfo = H5L_info_t;
#define GB_H5LITERATE H5Literate
#endif

struct NameVisit {
  std::vector<std::string> names;
  h5::CallbackGuard guard;
};

herr_t collect_name(hid_t, const char* name, const LinkInfo*, void* data) noexcept {
  auto* visit = static_cast<NameVisit*>(data);
  return visit->guard.run([&] {
    visit->names.emplace_back(name);
    return herr_t{0};
  });
}

std::vector<std::string> group_members(hid_t group) {
  NameVisit visit;
  hsize_t idx = 0;
  const herr_t status =
      GB_H5LITERATE(group, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_name, &visit);
  visit.guard.rethrow();
  check(status, "list a group's members");
  std::sort(visit.names.begin(), visit.names.end());
  return std::move(visit.names);
}

std::string schema_of(hid_t file) {
  if (check(H5Aexists(file, "schema"), "look up attribute schema") <= 0) return "";
  Attributes attrs;
  read_attr(file, "schema", attrs);
  return attrs.str("schema");
}

bool readable_schema(const std::string& schema) {
  return std::find(std::begin(kReadableSchemas), std::end(kReadableSchemas), schema) !=
         std::end(kReadableSchemas);
}

/// Writes the input list as /input_sets/<fingerprint> (once) and returns that path; /inputs is
/// a hard link to the file's first set.
std::string write_inputs(hid_t file, const std::vector<InputFile>& inputs) {
  const std::string fp = fingerprint(inputs);
  std::string path = "/input_sets/" + fp;
  if (!link_exists(file, "/input_sets")) {
    Handle g(H5Gcreate2(file, "/input_sets", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
             "create group /input_sets");
  }
  if (!link_exists(file, path)) {
    Handle g(H5Gopen2(file, "/input_sets", H5P_DEFAULT), "open group /input_sets");
    write_table(g, fp, inputs);
    Handle ds(H5Dopen2(g, fp.c_str(), H5P_DEFAULT), "open dataset " + path);
    write_attr(ds, "fingerprint", fp);
  }
  if (!link_exists(file, "/inputs")) {
    check(H5Lcreate_hard(file, path.c_str(), file, "/inputs", H5P_DEFAULT, H5P_DEFAULT),
          "link /inputs to " + path);
  }
  return path;
}

void write_run(hid_t runs, const std::string& name, const RunResult& run,
               const std::string& inputs_path) {
  Handle g(H5Gcreate2(runs, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
           "create run group " + name);
  for (const auto& [k, v] : run.attrs.items())
    write_attr(g, k, v);
  write_attr(g, "inputs", inputs_path);
  write_table(g, "images", run.images);
  write_table(g, "ranks", run.ranks);
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

std::string hdf5_library_version() {
  return h5::library_version();
}

void check_results_target(const std::string& path) {
  h5::ErrorSilencer quiet;
  const fs::path target = resolve_results_path(path);
  const std::string shown = target == fs::absolute(path).lexically_normal()
                                ? path
                                : path + " (-> " + target.string() + ")";
  const fs::path dir = target.parent_path();
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw UsageError("--results directory does not exist: " + dir.string());
  // The lock, the journal and a first save create files beside the results.
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    throw UsageError("--results directory " + dir.string() +
                     " is not writable: " + std::generic_category().message(errno));
  }
  ResultsLock::probe(target);
  // Held to the end of the checks: another job may be saving into the same file right now
  // (concurrent jobs append to one file), and its file is only whole between saves.
  std::optional<ResultsLock> lock;
  if (fs::exists(target, ec) || fs::exists(fs::path(target.string() + ".journal"), ec)) {
    // A save that was killed half-way is rolled back first (waiting for a save in progress).
    lock.emplace(target);
    recover_interrupted_save(target);
  }
  if (!fs::exists(target, ec)) return;
  if (fs::is_directory(target, ec)) throw UsageError("--results is a directory: " + shown);
  if (!fs::is_regular_file(target, ec)) {
    throw UsageError("--results is not a regular file: " + shown);
  }
  // Saves append in place: the file itself must be writable by this user, whatever the
  // directory allows (never replace another user's file).
  {
    const int fd = ::open(target.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      throw UsageError("--results " + shown + " is not writable by this user (" +
                       std::generic_category().message(errno) + "); nothing was run");
    }
    ::close(fd);
  }
  if (H5Fis_hdf5(target.c_str()) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    throw UsageError("--results " + shown + " exists and is not an HDF5 file; not touching it");
  }
  const hid_t f = H5Fopen(target.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) {
    H5Eclear2(H5E_DEFAULT);
    throw UsageError("--results " + shown + " cannot be opened as HDF5");
  }
  Handle file(f, "open " + target.string());
  const std::string schema = schema_of(file);
  if (schema.rfind("graybench/", 0) != 0) {
    throw UsageError("--results " + shown + " is not a graybench results file (schema '" + schema +
                     "')");
  }
  if (schema != kSchema) {
    throw UsageError("--results " + shown + " has schema " + schema + ", this build writes " +
                     kSchema + "; use a new file");
  }
}

std::vector<std::string> append_runs(const std::string& path, const std::vector<InputFile>& inputs,
                                     const std::vector<RunResult>& runs,
                                     const std::function<void()>& before_commit,
                                     const std::function<Attributes()>& last_words) {
  h5::ErrorSilencer quiet;
  std::vector<std::string> names;
  try {
    // Through a symlink, update the file it names (created there if missing).
    const fs::path target = resolve_results_path(path);
    // Concurrent writers (several jobs appending to one file) take turns.
    ResultsLock lock(target);
    recover_interrupted_save(target);
    JournaledFile store(target);
    try {
      const hid_t file = store.id();
      if (!store.created()) {
        const std::string schema = schema_of(file);
        if (schema != kSchema) {
          throw std::runtime_error("results file " + path + " has schema '" + schema +
                                   "', expected " + kSchema);
        }
      } else {
        write_attr(file, "schema", std::string(kSchema));
        write_attr(file, "created", iso8601_utc(std::chrono::system_clock::now()));
        write_attr(file, "graybench_version", std::string(version()));
        write_attr(file, "checksum_algorithm", std::string(kChecksumAlgorithm));
        Handle g(H5Gcreate2(file, "/runs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                 "create group /runs");
      }
      {
        const std::string inputs_path = write_inputs(file, inputs);
        Handle runs_group(H5Gopen2(file, "/runs", H5P_DEFAULT), "open group /runs");
        int next = next_run_number(runs_group);
        for (const auto& run : runs) {
          char name[32];
          std::snprintf(name, sizeof name, "run-%05d", next++);
          write_run(runs_group, name, run, inputs_path);
          names.push_back(name);
        }
        if (last_words) {
          const Attributes late = last_words();
          for (const auto& name : names) {
            Handle g(H5Gopen2(runs_group, name.c_str(), H5P_DEFAULT), "open run group " + name);
            for (const auto& [k, v] : late.items())
              rewrite_attr(g, k, v);
          }
        }
      }
      store.commit(before_commit);
    } catch (const std::exception&) {
      // The errno of the failed write ("No space left on device") is the cause to report.
      if (!store.io_error().empty()) throw std::runtime_error(store.io_error());
      throw;
    }
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot save results to " + path + ": " + e.what());
  }
  return names;
}

ResultsFile read_results(const std::string& path) {
  h5::ErrorSilencer quiet;
  try {
    ResultsFile out;
    const fs::path target = resolve_results_path(path);
    if (fs::exists(fs::path(target.string() + ".journal")) && ::access(target.c_str(), W_OK) == 0) {
      // A save was killed half-way: put the file back as it was before reading it.
      ResultsLock lock(target);
      recover_interrupted_save(target);
    }
    Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "open the file");
    out.root = read_attrs(file);
    const std::string schema = out.root.str("schema");
    if (!readable_schema(schema)) {
      throw std::runtime_error("schema '" + schema + "' is not one this build reads");
    }
    if (link_exists(file, "/inputs")) out.inputs = read_table<InputFile>(file, "/inputs");
    Handle runs(H5Gopen2(file, "/runs", H5P_DEFAULT), "open group /runs");
    out.run_names = group_members(runs);
    for (const auto& name : out.run_names) {
      Handle g(H5Gopen2(runs, name.c_str(), H5P_DEFAULT), "open run group " + name);
      RunResult run;
      run.attrs = read_attrs(g);
      run.images = read_table<ImageRecord>(g, "images");
      run.ranks = read_table<RankRecord>(g, "ranks");
      out.runs.push_back(std::move(run));
    }
    return out;
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot read results " + path + ": " + e.what());
  }
}

}  // namespace graybench
