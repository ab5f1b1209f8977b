// A writer for the crash test: appends synthetic runs of known content to a results file and
// says "saved K" after each append returns, until killed. Row i of run K has checksum
// K * 1'000'000'007 + i, so a reader can prove every row of every run intact.
#include <cstdlib>
#include <iostream>
#include <string>

#include "h5/results.hpp"

int main(int argc, char** argv) {
  using namespace graybench;
  if (argc != 5) {
    std::cerr << "usage: save_child RESULTS ROWS FIRST_RUN RUNS\n";
    return 2;
  }
  const std::string path = argv[1];
  const long rows = std::atol(argv[2]);
  const long first = std::atol(argv[3]);
  const long runs = std::atol(argv[4]);
  std::vector<InputFile> inputs;
  for (long i = 0; i < rows; ++i)
    inputs.push_back({"/in/img-" + std::to_string(i) + ".png", static_cast<std::uint64_t>(i), ""});
  for (long k = first; k < first + runs; ++k) {
    RunResult run;
    run.attrs.set("strategy", std::string("crash-test"));
    run.attrs.set("sequence", std::int64_t{k});
    for (long i = 0; i < rows; ++i) {
      ImageRecord r;
      r.image = static_cast<std::uint64_t>(i);
      r.path = inputs[static_cast<std::size_t>(i)].path;
      r.checksum = static_cast<std::uint64_t>(k) * 1'000'000'007ull + static_cast<std::uint64_t>(i);
      r.width = 1;
      r.height = 1;
      run.images.push_back(r);
    }
    run.ranks.push_back(RankRecord{});
    append_runs(path, inputs, {run});
    std::cout << "saved " << k << std::endl;
  }
  return 0;
}
