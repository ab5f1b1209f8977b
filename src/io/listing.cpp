#include "io/listing.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string_view>
#include <system_error>

#include "common/errors.hpp"
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
                      const std::optional<std::string>& output_dir) {
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
  // The same file twice (spelled twice, or reached through a symlink) is converted once.
  std::set<fs::path> seen;
  std::vector<Candidate> unique;
  for (auto& c : found) {
    std::error_code ec;
    fs::path key = fs::weakly_canonical(c.path, ec);
    if (ec) key = c.path;
    if (seen.insert(key).second) unique.push_back(std::move(c));
  }

  fs::path root = unique.front().root;
  for (const auto& c : unique)
    root = common_ancestor(root, c.root);

  InputList list;
  list.root = root.string();
  list.files.reserve(unique.size());
  std::map<std::string, std::string> outputs;  // output_rel -> input, to catch collisions
  for (const auto& c : unique) {
    InputFile f;
    f.path = c.path.string();
    std::error_code ec;
    f.size = fs::file_size(c.path, ec);
    if (ec) f.size = 0;  // unreadable now: the run records the read error for this image
    f.output_rel = mirror_name(c.path.lexically_relative(root));
    auto [it, inserted] = outputs.emplace(f.output_rel, f.path);
    if (!inserted) {
      throw UsageError("inputs " + it->second + " and " + f.path + " would share output " +
                       f.output_rel);
    }
    list.files.push_back(std::move(f));
  }

  if (output_dir) {
    std::error_code ec;
    const fs::path out = absolute_normal(*output_dir);
    if (fs::exists(out, ec) && !fs::is_directory(out, ec)) {
      throw UsageError("--output-dir is not a directory: " + *output_dir);
    }
    for (const auto& f : list.files) {
      const fs::path target = fs::weakly_canonical(out / f.output_rel, ec);
      if (!ec && seen.count(target)) {
        throw UsageError("output " + (out / f.output_rel).string() + " would overwrite an input");
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
