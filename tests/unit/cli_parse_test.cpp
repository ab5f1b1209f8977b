#include <gtest/gtest.h>

#include "cli/config.hpp"
#include "common/errors.hpp"

namespace graybench {
namespace {

ParseResult parse(std::vector<std::string> args) {
  args.insert(args.begin(), "graybench");
  return parse_command_line(args);
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
}

TEST(CliParse, RepeatableAndListOptions) {
  const auto c = parse({"-i", "a", "--input", "b", "--list", "l.txt", "-o", "out", "-r", "x.h5",
                        "--strategy", "all", "--repeat", "3", "--warmup", "1", "-q"})
                     .config;
  EXPECT_EQ(c.inputs, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.lists, std::vector<std::string>{"l.txt"});
  EXPECT_EQ(*c.output_dir, "out");
  EXPECT_EQ(c.results, "x.h5");
  EXPECT_EQ(c.strategies.size(), strategy_table().size());
  EXPECT_EQ(c.repeat, 3);
  EXPECT_EQ(c.warmup, 1);
  EXPECT_TRUE(c.quiet);
}

TEST(CliParse, HelpListsEveryOptionWithDefaults) {
  const auto r = parse({"--help"});
  EXPECT_EQ(r.action, ParseResult::Action::kHelp);
  for (const char* s : {"--input", "--list", "--output-dir", "--results", "(=graybench.h5)",
                        "--strategy", "(=sequential)", "--repeat", "--warmup", "--distribution",
                        "--quiet", "--version", "Exit codes"}) {
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
  EXPECT_NE(usage_error({"-i"}).size(), 0u);
}

TEST(CliParse, ShellJoinQuotes) {
  EXPECT_EQ(shell_join({"a", "b c", "it's", ""}), "a 'b c' 'it'\\''s' ''");
}

}  // namespace
}  // namespace graybench
