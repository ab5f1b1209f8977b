#include "cli/config.hpp"

#include <boost/program_options.hpp>
#include <sstream>

#include "core/errors.hpp"
#include "timing/build_info.hpp"

namespace graybench {

namespace po = boost::program_options;

namespace {

std::vector<std::string> split_list(const std::string& csv, const char* option) {
  std::vector<std::string> out;
  if (!csv.empty() && csv.back() == ',') {
    throw UsageError(std::string("--") + option + ": empty item in '" + csv + "'");
  }
  std::stringstream ss(csv);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty())
      throw UsageError(std::string("--") + option + ": empty item in '" + csv + "'");
    out.push_back(item);
  }
  if (out.empty()) throw UsageError(std::string("--") + option + ": empty list");
  return out;
}

int parse_int(const std::string& s, const char* option, int min) {
  std::size_t used = 0;
  int v = 0;
  try {
    v = std::stoi(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != s.size() || s.empty()) {
    throw UsageError(std::string("--") + option + ": '" + s + "' is not an integer");
  }
  if (v < min) {
    throw UsageError(std::string("--") + option + ": must be >= " + std::to_string(min) + ", got " +
                     s);
  }
  return v;
}

/// "--option" help text followed by the choices of E: "... (one of a, b, c)".
template <NamedEnum E>
std::string with_choices(const std::string& text) {
  return text + " (one of " + enum_choices<E>() + ")";
}

}  // namespace

std::string shell_join(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& a : args) {
    if (!out.empty()) out += ' ';
    const bool plain = !a.empty() && a.find_first_not_of(
                                         "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"
                                         "OPQRSTUVWXYZ0123456789-_./=:,+@%") == std::string::npos;
    if (plain) {
      out += a;
    } else {
      out += '\'';
      for (char c : a)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
      out += '\'';
    }
  }
  return out;
}

ParseResult parse_command_line(const std::vector<std::string>& args,
                               const std::function<const char*(const char*)>& env) {
  ParseResult result;
  Config& c = result.config;
  std::string strategy = "sequential", workers, distribution = "block", mode = "files",
              omp_schedule = "dynamic,1", ipc = "pipe", dynamic_counter = "auto", progress = "auto",
              cache = "warm", max_pixels = std::to_string(c.max_pixels);
  std::string decoder = "auto";

  po::options_description desc(
      "Usage: graybench --input PATH [--input PATH ...] [options]\n"
      "       mpirun -np N graybench --input PATH [options]\n"
      "       graybench --repair-results FILE\n\n"
      "Converts images to grayscale (Pillow's convert(\"L\")) under a chosen parallel strategy\n"
      "and records per-image and per-rank timings in an HDF5 file (docs/schema.md).\n\nOptions");
  // clang-format off
  desc.add_options()
      ("help,h", "print this help and exit")
      ("version", "print the version and build information and exit")
      ("repair-results", po::value<std::string>()->value_name("FILE"),
       "roll back a save of FILE that was interrupted (killed), so that h5py and h5dump can "
       "open it again; runs nothing, takes no other option, waits for a save in progress")
      ("input,i", po::value<std::vector<std::string>>(&c.inputs)->value_name("PATH"),
       "image file, or directory scanned recursively (repeatable)")
      ("list", po::value<std::vector<std::string>>(&c.lists)->value_name("FILE"),
       "file with one image or directory path per line (repeatable)")
      ("output-dir,o", po::value<std::string>()->value_name("DIR"),
       "write grayscale PNGs here, mirroring input paths (default: write nothing)")
      ("results,r", po::value<std::string>(&c.results)->default_value(c.results)->value_name("FILE"),
       "HDF5 results file; new runs are appended")
      ("strategy,s", po::value<std::string>(&strategy)->default_value(strategy)->value_name("LIST"),
       ("comma list of strategies, or 'all': " + enum_choices<Strategy>()).c_str())
      ("workers,w", po::value<std::string>(&workers)->value_name("LIST"),
       "comma list of workers per rank (threads or processes); default: $SLURM_CPUS_PER_TASK, "
       "else $OMP_NUM_THREADS, else 1")
      ("mode", po::value<std::string>(&mode)->default_value(mode)->value_name("MODE"),
       with_choices<Mode>("files: read+decode inside the timed work; memory: load files first, "
                          "time the rest").c_str())
      ("cache", po::value<std::string>(&cache)->default_value(cache)->value_name("warm|cold"),
       with_choices<Cache>("cold: sync and drop (posix_fadvise DONTNEED) every input of the rank "
                           "from the page cache before each repetition").c_str())
      ("kernel-repeat", po::value<int>(&c.kernel_repeat)->default_value(c.kernel_repeat)->value_name("K"),
       "run the grayscale kernel K times per image (same result): dials in CPU-bound work")
      ("max-pixels", po::value<std::string>(&max_pixels)->default_value(max_pixels)->value_name("N"),
       "an image whose header declares more than N pixels is not decoded: a failed row "
       "(default 2^28)")
      ("gil", po::bool_switch(&c.gil), "emulate Python's GIL: one lock per process around the kernel")
      ("gil-interval", po::value<double>(&c.gil_interval_ms)->default_value(c.gil_interval_ms)->value_name("MS"),
       "GIL switch interval in milliseconds (Python's default is 5)")
      ("omp-schedule", po::value<std::string>(&omp_schedule)->default_value(omp_schedule)->value_name("KIND[,CHUNK]"),
       with_choices<OmpKind>("openmp loop schedule kind, optional chunk").c_str())
      ("ipc", po::value<std::string>(&ipc)->default_value(ipc)->value_name("pipe|shm"),
       with_choices<Ipc>("processes: pixels (and memory-mode inputs) travel through the pipe or "
                         "shared memory").c_str())
      ("repeat", po::value<int>(&c.repeat)->default_value(c.repeat)->value_name("R"),
       "measured repetitions of each strategy/worker combination")
      ("warmup", po::value<int>(&c.warmup)->default_value(c.warmup)->value_name("W"),
       "unrecorded warm-up repetitions before the measured ones")
      ("distribution", po::value<std::string>(&distribution)->default_value(distribution)->value_name("POLICY"),
       with_choices<Distribution>("how images are spread over MPI ranks").c_str())
      ("dynamic-counter", po::value<std::string>(&dynamic_counter)->default_value(dynamic_counter)->value_name("HOW"),
       with_choices<CounterKind>("dynamic: how ranks share the counter; auto tries MPI one-sided "
                                 "atomics, else a dispatcher thread on rank 0").c_str())
      ("chunk", po::value<int>(&c.chunk)->default_value(c.chunk)->value_name("N"),
       "images a rank takes per request with --distribution dynamic")
      ("progress", po::value<std::string>(&progress)->default_value(progress)->value_name("MODE"),
       with_choices<ProgressMode>("progress on stderr: tty redraws a live line, log prints plain "
                                  "lines (mpirun, Slurm logs), auto is tty on a terminal and log "
                                  "otherwise, none is silent").c_str())
      ("progress-interval", po::value<double>(&c.progress_interval_s)->default_value(c.progress_interval_s)->value_name("S"),
       "log progress: a line at each 10 % step and at least every S seconds once a run has "
       "lasted 1 s; 0: a line at every 10 % step and at the end of each run")
      ("decoder", po::value<std::string>(&decoder)->default_value(decoder)->value_name("auto|stb"),
       "auto: libjpeg-turbo for JPEG (Pillow's exact pixels), our own libdeflate-based decoder "
       "for PNG (libspng for palette and interlaced PNG), stb_image for the rest; stb: stb_image for everything (the original decoders, for comparison)")
      ("png-level", po::value<int>(&c.png_level)->default_value(c.png_level)->value_name("N"),
       "PNG compression level 1-12 (libdeflate): lower is faster, higher is smaller")
      ("quiet,q", po::bool_switch(&c.quiet), "print nothing but errors (implies --progress none)");
  // clang-format on

  std::vector<std::string> tail(args.begin() + (args.empty() ? 0 : 1), args.end());
  po::variables_map vm;
  try {
    // No positional arguments: a stray word is an error, not silently ignored.
    const po::positional_options_description none;
    po::store(po::command_line_parser(tail).options(desc).positional(none).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(std::string(e.what()) + " (see --help)");
  }

  if (vm.count("help")) {
    std::ostringstream os;
    os << desc << "\nExit codes:\n"
       << "  0  every image of every run converted\n"
       << "  1  fatal error (results file, MPI, internal); under MPI the whole job is aborted\n"
       << "  2  usage error: bad option or input selection; nothing was run\n"
       << "  3  finished, but some images failed (each one is a row in the results file)\n"
       << "  4  interrupted by SIGTERM/SIGINT: runs so far saved, the last one as incomplete\n";
    result.action = ParseResult::Action::kHelp;
    result.text = os.str();
    return result;
  }
  if (vm.count("version")) {
    result.action = ParseResult::Action::kVersion;
    result.text = std::string("graybench ") + version() + " (" + git_revision() + ", " +
                  compiler() + ", " + build_type() + ")\n";
    return result;
  }
  if (vm.count("repair-results")) {
    for (const auto& [name, value] : vm) {
      if (name != "repair-results" && !value.defaulted()) {
        throw UsageError("--repair-results takes no other option (got --" + name + ")");
      }
    }
    c.results = vm["repair-results"].as<std::string>();
    if (c.results.empty()) throw UsageError("--repair-results: empty file name");
    result.action = ParseResult::Action::kRepairResults;
    return result;
  }
  if (c.inputs.empty() && c.lists.empty()) {
    throw UsageError("no input: give --input PATH or --list FILE (see --help)");
  }
  if (vm.count("output-dir")) c.output_dir = vm["output-dir"].as<std::string>();
  if (c.results.empty()) throw UsageError("--results: empty file name");
  if (c.repeat < 1) throw UsageError("--repeat must be >= 1");
  if (c.warmup < 0) throw UsageError("--warmup must be >= 0");

  c.strategies.clear();
  for (const auto& name : split_list(strategy, "strategy")) {
    if (name == "all") {
      for (const auto& entry : names_of<Strategy>())
        c.strategies.push_back(entry.value);
      continue;
    }
    const auto s = parse_enum<Strategy>(name);
    if (!s) throw UsageError("--strategy: " + unknown_enum_message<Strategy>(name, "all"));
    c.strategies.push_back(*s);
  }
  if (!vm.count("workers")) {
    // Thread counts come from the command line or the scheduler, never hardware_concurrency().
    for (const char* var : {"SLURM_CPUS_PER_TASK", "OMP_NUM_THREADS"}) {
      const char* v = env(var);
      if (v && *v) {
        workers = std::string(v).substr(0, std::string(v).find(','));  // OMP lists: outer level
        c.workers_source = var;
        break;
      }
    }
    if (workers.empty()) workers = "1";
  } else {
    c.workers_source = "command line";
  }
  c.workers.clear();
  for (const auto& w : split_list(workers, "workers"))
    c.workers.push_back(parse_int(w, "workers", 1));

  c.mode = parse_enum_or_throw<Mode>(mode, "--mode");
  c.cache = parse_enum_or_throw<Cache>(cache, "--cache");
  if (c.kernel_repeat < 1) throw UsageError("--kernel-repeat must be >= 1");
  // Digits only: Boost would wrap "-1" into a huge unsigned number.
  if (max_pixels.empty() || max_pixels.size() > 19 ||
      max_pixels.find_first_not_of("0123456789") != std::string::npos ||
      std::stoull(max_pixels) < 1) {
    throw UsageError("--max-pixels: must be a whole number >= 1, got '" + max_pixels + "'");
  }
  c.max_pixels = std::stoull(max_pixels);
  if (!(c.gil_interval_ms > 0) || c.gil_interval_ms > 60000) {
    throw UsageError("--gil-interval must be > 0 and <= 60000 ms");
  }
  const auto sched = parse_omp_schedule(omp_schedule);
  if (!sched) {
    throw UsageError("--omp-schedule: bad schedule '" + omp_schedule + "' (" +
                     enum_choices<OmpKind>(" or ") + ", optionally ,CHUNK with CHUNK >= 1)");
  }
  c.omp = *sched;
  c.ipc = parse_enum_or_throw<Ipc>(ipc, "--ipc");
  c.distribution = parse_enum_or_throw<Distribution>(distribution, "--distribution");
  c.progress = parse_enum_or_throw<ProgressMode>(progress, "--progress");
  if (c.quiet) c.progress = ProgressMode::kNone;
  if (!(c.progress_interval_s >= 0)) throw UsageError("--progress-interval must be >= 0");
  if (c.chunk < 1) throw UsageError("--chunk must be >= 1");
  c.dynamic_counter = parse_enum_or_throw<CounterKind>(dynamic_counter, "--dynamic-counter");
  if (c.mode == Config::Mode::kMemory && c.distribution == Distribution::kDynamic) {
    throw UsageError(
        "--mode memory needs a static --distribution (block, cyclic or size): a dynamic rank "
        "does not know its images before the clock starts");
  }

  c.decoder = parse_enum_or_throw<Decoder>(decoder, "--decoder");
  if (c.png_level < kPngLevelMin || c.png_level > kPngLevelMax) {
    throw UsageError("--png-level must be " + std::to_string(kPngLevelMin) + ".." +
                     std::to_string(kPngLevelMax) + ", got " + std::to_string(c.png_level));
  }

  c.command_line = shell_join(args);
  return result;
}

}  // namespace graybench
