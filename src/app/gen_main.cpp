// graybench-gen: writes the deterministic synthetic data set used by the demo and the tests.
#include <boost/program_options.hpp>
#include <iostream>

#include "app/progress.hpp"
#include "app/versions.hpp"
#include "core/errors.hpp"
#include "io/generator.hpp"

int main(int argc, char** argv) {
  using namespace graybench;
  namespace po = boost::program_options;
  GenOptions o;
  std::string output, sizes = "320x240,640x480,800x600", formats = "png,jpg",
                      modes = "rgb,rgba,gray,graya", progress = "auto";
  po::options_description desc(
      "Usage: graybench-gen --output DIR [options]\n\n"
      "Writes a seeded synthetic image set: the same options always give the same bytes.\n"
      "Image i goes to DIR/set-(i % subdirs)/img-(i / subdirs).(png|jpg).\n\nOptions");
  // clang-format off
  desc.add_options()
      ("help,h", "print this help and exit")
      ("version", "print the version, build, MPI, HDF5 and codec versions and exit")
      ("output,o", po::value<std::string>(&output)->value_name("DIR"), "directory to write (created)")
      ("count,n", po::value<int>(&o.count)->default_value(o.count), "number of images")
      ("seed", po::value<std::uint64_t>(&o.seed)->default_value(o.seed), "random seed")
      ("sizes", po::value<std::string>(&sizes)->default_value(sizes), "comma list of WIDTHxHEIGHT, picked at random")
      ("formats", po::value<std::string>(&formats)->default_value(formats), ("comma list of " + enum_choices<GenFormat>() + " (cycled)").c_str())
      ("modes", po::value<std::string>(&modes)->default_value(modes),
       ("comma list of " + enum_choices<GenMode>() + " (cycled; 16-bit is PNG only)").c_str())
      ("subdirs", po::value<int>(&o.subdirs)->default_value(o.subdirs), "spread images over this many folders")
      ("jpeg-quality", po::value<int>(&o.jpeg_quality)->default_value(o.jpeg_quality), "JPEG quality 1-100")
      ("progress", po::value<std::string>(&progress)->default_value(progress)->value_name("auto|tty|log|none"),
       "progress on stderr: live line on a terminal (tty), plain lines every 10 % (log), none");
  // clang-format on
  try {
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::cout << desc;
      return 0;
    }
    if (vm.count("version")) {
      std::cout << version_text("graybench-gen");
      return 0;
    }
    if (output.empty()) throw UsageError("missing --output DIR (see --help)");
    const auto mode = parse_enum_or_throw<ProgressMode>(progress, "--progress");
    if (o.jpeg_quality < 1 || o.jpeg_quality > 100)
      throw UsageError("--jpeg-quality must be 1-100");
    o.sizes = parse_gen_sizes(sizes);
    o.formats = parse_gen_formats(formats);
    o.modes = parse_gen_modes(modes);
    std::atomic<std::uint64_t> done{0};
    std::vector<std::filesystem::path> written;
    {
      ProgressSpec spec;
      spec.mode = mode;
      spec.program = "graybench-gen";
      spec.label = "writing " + output;
      spec.runs = 0;
      spec.total = o.count > 0 ? static_cast<std::uint64_t>(o.count) : 0;
      spec.share = spec.total;
      Progress shown(spec, &done, Clock::now());
      written = generate_dataset(output, o, [&](int n) { done.store(n); });
    }
    std::cout << "graybench-gen: wrote " << written.size() << " images to " << output << "\n";
    return 0;
  } catch (const po::error& e) {
    std::cerr << "graybench-gen: " << e.what() << " (see --help)\n";
    return 2;
  } catch (const UsageError& e) {
    std::cerr << "graybench-gen: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "graybench-gen: " << e.what() << "\n";
    return 1;
  }
}
