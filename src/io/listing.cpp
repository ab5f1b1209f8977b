#include "io/listing.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string_view>
#include <system_error>

#include "core/errors.hpp"
#include "kernel/checksum.hpp"

namespace graybench {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

fs::path absolute_normal(const fs::path& p) {
  return fs::absolute(p).lexically_normal();
}

struct Candidate {
  fs::path path;  // absolute, normal
  fs::path root;  // directory the user's input names (or the file's own directory)
};

void add_input(const std::string& spec, const std::string& origin, std::vector<Candidate>& out) {
  if (spec.empty()) throw UsageError(origin + "empty input path");
  const fs::path p = absolute_normal(spec);
  std::error_code ec;
  const fs::file_status st = fs::status(p, ec);
  if (ec || !fs::exists(st)) throw UsageError(origin + "input does not exist: " + spec);
  if (fs::is_directory(st)) {
    auto opts = fs::directory_options::skip_permission_denied;
    for (fs::recursive_directory_iterator it(p, opts, ec), end; !ec && it != end;
         it.increment(ec)) {
      std::error_code fec;
      if (it->is_regular_file(fec) && is_supported_image(it->path())) {
        out.push_back({it->path().lexically_normal(), p});
      }
    }
    if (ec) throw UsageError(origin + "cannot scan directory " + spec + ": " + ec.message());
    return;
  }
  if (!fs::is_regular_file(st)) throw UsageError(origin + "not a regular file: " + spec);
  if (!is_supported_image(p)) {
    throw UsageError(origin + "unsupported image type: " + spec +
                     " (expected png, jpg, jpeg, bmp, tga, gif, pnm, pgm, ppm or psd)");
  }
  out.push_back({p, p.parent_path()});
}

fs::path common_ancestor(const fs::path& a, const fs::path& b) {
  fs::path out;
  auto ia = a.begin(), ib = b.begin();
  for (; ia != a.end() && ib != b.end() && *ia == *ib; ++ia, ++ib)
    out /= *ia;
  return out;
}

}  // namespace

bool is_supported_image(const fs::path& path) {
  static const std::set<std::string, std::less<>> kExt = {".png", ".jpg", ".jpeg", ".bmp", ".tga",
                                                          ".gif", ".pnm", ".pgm",  ".ppm", ".psd"};
  return kExt.count(lower(path.extension().string())) > 0;
}

std::string mirror_name(const fs::path& relative) {
  std::string s = relative.generic_string();
  if (lower(relative.extension().string()) != ".png") s += ".png";
  return s;
}

InputList list_inputs(const std::vector<std::string>& inputs,
                      const std::vector<std::string>& list_files,
                      const std::optional<std::string>& output_dir,
                      const std::optional<std::string>& results) {
  std::vector<Candidate> found;
  for (const auto& in : inputs)
    add_input(in, "", found);
  for (const auto& list : list_files) {
    std::ifstream f(list);
    if (!f) throw UsageError("cannot read list file: " + list);
    std::string line;
    for (int n = 1; std::getline(f, line); ++n) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const auto first = line.find_first_not_of(" \t");
      if (first == std::string::npos || line[first] == '#') continue;
      const auto last = line.find_last_not_of(" \t");
      add_input(line.substr(first, last - first + 1), list + ":" + std::to_string(n) + ": ", found);
    }
  }
  if (found.empty()) throw UsageError("no images found in the given inputs");

  std::sort(found.begin(), found.end(), [](const Candidate& x, const Candidate& y) {
    return x.path.native() < y.path.native();
  });
  // The same file twice (spelled twice, through a symlink, or as a hard link) is converted
  // once: files are identified by device and inode.
  std::set<fs::path> seen;  // canonical paths of the inputs, for the overwrite check
  std::set<std::pair<dev_t, ino_t>> ids;
  std::vector<Candidate> unique;
  for (auto& c : found) {
    std::error_code ec;
    fs::path key = fs::weakly_canonical(c.path, ec);
    if (ec) key = c.path;
    struct stat st {};
    const bool fresh = ::stat(c.path.c_str(), &st) == 0 ? ids.emplace(st.st_dev, st.st_ino).second
                                                        : !seen.count(key);
    seen.insert(key);
    if (fresh) unique.push_back(std::move(c));
  }

  fs::path root = unique.front().root;
  for (const auto& c : unique)
    root = common_ancestor(root, c.root);

  InputList list;
  list.root = root.string();
  list.files.reserve(unique.size());
  for (const auto& c : unique) {
    InputFile f;
    f.path = c.path.string();
    std::error_code ec;
    f.size = fs::file_size(c.path, ec);
    if (ec) f.size = 0;  // unreadable now: the run records the read error for this image
    f.output_rel = mirror_name(c.path.lexically_relative(root));
    list.files.push_back(std::move(f));
  }

  if (output_dir) {
    std::error_code ec;
    const fs::path out = absolute_normal(*output_dir);
    if (fs::exists(out, ec) && !fs::is_directory(out, ec)) {
      throw UsageError("--output-dir is not a directory: " + *output_dir);
    }
    fs::path results_target;
    if (results) results_target = fs::weakly_canonical(absolute_normal(*results), ec);
    // Compare where the files really land (symlinked folders included), not the names.
    std::map<fs::path, std::string> targets;  // output file -> the input written there
    for (const auto& f : list.files) {
      const fs::path spelled = out / f.output_rel;
      fs::path target = fs::weakly_canonical(spelled, ec);
      if (ec) target = spelled;
      if (seen.count(target)) {
        throw UsageError("output " + spelled.string() + " would overwrite an input");
      }
      if (!results_target.empty() && target == results_target) {
        throw UsageError("output " + spelled.string() + " would overwrite the --results file");
      }
      auto [it, inserted] = targets.emplace(target, f.path);
      if (!inserted) {
        throw UsageError("inputs " + it->second + " and " + f.path + " would share output " +
                         spelled.string());
      }
    }
  }
  return list;
}

std::string fingerprint(const std::vector<InputFile>& files) {
  Fnv1a64 h;
  for (const auto& f : files) {
    const std::string line = f.path + "\t" + std::to_string(f.size) + "\n";
    h.update({reinterpret_cast<const std::uint8_t*>(line.data()), line.size()});
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h.value()));
  return buf;
}

}  // namespace graybench
