#include <gtest/gtest.h>

#include "cli/config.hpp"
#include "core/errors.hpp"

namespace graybench {
namespace {

const char* no_env(const char*) {
  return nullptr;
}

ParseResult parse(std::vector<std::string> args,
                  const std::function<const char*(const char*)>& env = no_env) {
  args.insert(args.begin(), "graybench");
  return parse_command_line(args, env);
}

std::string usage_error(std::vector<std::string> args) {
  try {
    parse(std::move(args));
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(CliParse, Defaults) {
  const auto r = parse({"--input", "imgs"});
  EXPECT_EQ(r.action, ParseResult::Action::kRun);
  const Config& c = r.config;
  EXPECT_EQ(c.inputs, std::vector<std::string>{"imgs"});
  EXPECT_EQ(c.results, "graybench.h5");
  EXPECT_FALSE(c.output_dir.has_value());
  EXPECT_EQ(c.strategies, std::vector<Strategy>{Strategy::kSequential});
  EXPECT_EQ(c.repeat, 1);
  EXPECT_EQ(c.warmup, 0);
  EXPECT_EQ(c.command_line, "graybench --input imgs");
  EXPECT_EQ(c.workers, std::vector<int>{1});
  EXPECT_EQ(c.workers_source, "default");
  EXPECT_EQ(c.mode, Config::Mode::kFiles);
  EXPECT_EQ(c.kernel_repeat, 1);
  EXPECT_FALSE(c.gil);
  EXPECT_DOUBLE_EQ(c.gil_interval_ms, 5.0);
  EXPECT_EQ(to_string(c.omp), "dynamic,1");
  EXPECT_EQ(c.ipc, Ipc::kPipe);
}

TEST(CliParse, CacheWarmByDefaultColdOnRequest) {
  EXPECT_EQ(parse({"--input", "imgs"}).config.cache, Config::Cache::kWarm);
  EXPECT_EQ(parse({"--input", "imgs", "--cache", "cold"}).config.cache, Config::Cache::kCold);
  EXPECT_EQ(to_string(Config::Cache::kCold), "cold");
  EXPECT_NE(usage_error({"--input", "imgs", "--cache", "hot"}).find("--cache"), std::string::npos);
}

TEST(CliParse, StrategyKnobs) {
  const auto c = parse({"-i", "a", "--strategy", "threads,processes", "--workers", "1,2,4",
                        "--mode", "memory", "--kernel-repeat", "50", "--gil", "--gil-interval",
                        "0.5", "--omp-schedule", "guided,8", "--ipc", "shm"})
                     .config;
  EXPECT_EQ(c.strategies, (std::vector<Strategy>{Strategy::kThreads, Strategy::kProcesses}));
  EXPECT_EQ(c.workers, (std::vector<int>{1, 2, 4}));
  EXPECT_EQ(c.workers_source, "command line");
  EXPECT_EQ(c.mode, Config::Mode::kMemory);
  EXPECT_EQ(c.kernel_repeat, 50);
  EXPECT_TRUE(c.gil);
  EXPECT_DOUBLE_EQ(c.gil_interval_ms, 0.5);
  EXPECT_EQ(to_string(c.omp), "guided,8");
  EXPECT_EQ(c.ipc, Ipc::kShm);
}

TEST(CliParse, WorkersDefaultFromTheScheduler) {
  auto env = [](const char* name) -> const char* {
    if (std::string(name) == "SLURM_CPUS_PER_TASK") return "6";
    if (std::string(name) == "OMP_NUM_THREADS") return "3";
    return nullptr;
  };
  const auto slurm = parse({"-i", "a"}, env).config;
  EXPECT_EQ(slurm.workers, std::vector<int>{6});
  EXPECT_EQ(slurm.workers_source, "SLURM_CPUS_PER_TASK");
  auto omp_only = [](const char* name) -> const char* {
    return std::string(name) == "OMP_NUM_THREADS" ? "4,2" : nullptr;
  };
  const auto omp = parse({"-i", "a"}, omp_only).config;
  EXPECT_EQ(omp.workers, std::vector<int>{4});
  EXPECT_EQ(omp.workers_source, "OMP_NUM_THREADS");
  EXPECT_EQ(parse({"-i", "a", "-w", "2"}, env).config.workers, std::vector<int>{2});
}

TEST(CliParse, RepeatableAndListOptions) {
  const auto c = parse({"-i", "a", "--input", "b", "--list", "l.txt", "-o", "out", "-r", "x.h5",
                        "--strategy", "all", "--repeat", "3", "--warmup", "1", "-q"})
                     .config;
  EXPECT_EQ(c.inputs, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.lists, std::vector<std::string>{"l.txt"});
  EXPECT_EQ(*c.output_dir, "out");
  EXPECT_EQ(c.results, "x.h5");
  EXPECT_EQ(c.strategies.size(), names_of<Strategy>().size());
  EXPECT_EQ(c.repeat, 3);
  EXPECT_EQ(c.warmup, 1);
  EXPECT_TRUE(c.quiet);
}

TEST(CliParse, HelpListsEveryOptionWithDefaults) {
  const auto r = parse({"--help"});
  EXPECT_EQ(r.action, ParseResult::Action::kHelp);
  for (const char* s : {"--input",        "--list",          "--output-dir",
                        "--results",      "(=graybench.h5)", "--strategy",
                        "(=sequential)",  "--workers",       "SLURM_CPUS_PER_TASK",
                        "--mode",         "(=files)",        "--kernel-repeat",
                        "--gil",          "--gil-interval",  "(=5)",
                        "--omp-schedule", "(=dynamic,1)",    "--ipc",
                        "(=pipe)",        "threads",         "openmp",
                        "pool",           "processes",       "--repeat",
                        "--warmup",       "--distribution",  "--quiet",
                        "--version",      "Exit codes"}) {
    EXPECT_NE(r.text.find(s), std::string::npos) << s;
  }
  EXPECT_EQ(parse({"--version"}).action, ParseResult::Action::kVersion);
}

TEST(CliParse, UsageErrors) {
  EXPECT_NE(usage_error({"--bogus"}).find("unrecognised option '--bogus'"), std::string::npos);
  EXPECT_NE(usage_error({}).find("no input"), std::string::npos);
  EXPECT_NE(usage_error({"-i", "a", "--strategy", "magic"}).find("unknown strategy 'magic'"),
            std::string::npos);
  EXPECT_NE(usage_error({"-i", "a", "--repeat", "0"}).find("--repeat"), std::string::npos);
  EXPECT_NE(usage_error({"-i", "a", "--repeat", "x"}).find("repeat"), std::string::npos);
  EXPECT_NE(usage_error({"-i", "a", "--warmup", "-1"}).find("--warmup"), std::string::npos);
  EXPECT_NE(usage_error({"-i", "a", "--strategy", "sequential,"}).find("empty"), std::string::npos);
  EXPECT_NE(usage_error({"-i", "a", "--distribution", "random"}).find("unknown policy"),
            std::string::npos);
  EXPECT_NE(usage_error({"-i", "a", "stray"}).size(), 0u);
  EXPECT_NE(usage_error({"-i", "a", "--workers", "0"}).find("--workers"), std::string::npos);
  EXPECT_NE(usage_error({"-i", "a", "--workers", "2,x"}).find("not an integer"), std::string::npos);
  EXPECT_NE(usage_error({"-i", "a", "--mode", "disk"}).find("--mode"), std::string::npos);
  EXPECT_NE(usage_error({"-i", "a", "--kernel-repeat", "0"}).find("--kernel-repeat"),
            std::string::npos);
  EXPECT_NE(usage_error({"-i", "a", "--gil-interval", "0"}).find("--gil-interval"),
            std::string::npos);
  EXPECT_NE(usage_error({"-i", "a", "--omp-schedule", "auto"}).find("--omp-schedule"),
            std::string::npos);
  EXPECT_NE(usage_error({"-i", "a", "--omp-schedule", "static,0"}).find("--omp-schedule"),
            std::string::npos);
  EXPECT_NE(usage_error({"-i", "a", "--ipc", "socket"}).find("--ipc"), std::string::npos);
  EXPECT_NE(usage_error({"-i"}).size(), 0u);
}

TEST(CliParse, CodecOptions) {
  const Config dflt = parse({"-i", "a"}).config;
  EXPECT_EQ(dflt.decoder, Decoder::kAuto);
  EXPECT_EQ(dflt.png_level, kPngLevelDefault);
  const Config c = parse({"-i", "a", "--decoder", "stb", "--png-level", "1"}).config;
  EXPECT_EQ(c.decoder, Decoder::kStb);
  EXPECT_EQ(c.png_level, 1);
  const auto help = parse({"--help"}).text;
  EXPECT_NE(help.find("--decoder"), std::string::npos);
  EXPECT_NE(help.find("--png-level"), std::string::npos);
  EXPECT_NE(usage_error({"-i", "a", "--decoder", "vips"}).find("--decoder"), std::string::npos);
  EXPECT_NE(usage_error({"-i", "a", "--png-level", "0"}).find("--png-level"), std::string::npos);
  EXPECT_NE(usage_error({"-i", "a", "--png-level", "13"}).find("--png-level"), std::string::npos);
}

TEST(CliParse, ShellJoinQuotes) {
  EXPECT_EQ(shell_join({"a", "b c", "it's", ""}), "a 'b c' 'it'\\''s' ''");
}

}  // namespace
}  // namespace graybench
