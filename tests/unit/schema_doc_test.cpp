// docs/schema.md against the declarations it documents: the record field tables, the attribute
// tables and the status names. A column or attribute added in code without its row in the
// document (or the reverse, or a changed type or unit) fails here.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "core/work_item.hpp"
#include "timing/records.hpp"
#include "timing/schema.hpp"

namespace graybench {
namespace {

struct Row {
  std::string type, unit;
};

std::string read_doc() {
  std::ifstream in(GRAYBENCH_SOURCE_DIR "/docs/schema.md");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line.substr(1));
  std::string cell;
  while (std::getline(ss, cell, '|')) {
    const auto b = cell.find_first_not_of(' '), e = cell.find_last_not_of(' ');
    out.push_back(b == std::string::npos ? "" : cell.substr(b, e - b + 1));
  }
  return out;
}

/// The first table under the heading that starts with `heading`: name -> (type, unit). Names
/// are `backticked`; a trailing * marks a prefix (`env_OMP_*` -> "env_OMP_").
std::map<std::string, Row> doc_table(const std::string& heading) {
  const std::string doc = read_doc();
  const auto at = doc.find("\n" + heading);
  EXPECT_NE(at, std::string::npos) << "no section " << heading;
  std::map<std::string, Row> rows;
  if (at == std::string::npos) return rows;
  std::stringstream ss(doc.substr(at + 1));
  std::string line;
  std::getline(ss, line);  // the heading
  bool in_table = false;
  while (std::getline(ss, line)) {
    if (line.rfind("## ", 0) == 0) break;
    if (line.empty() || line[0] != '|') {
      if (in_table) break;
      continue;
    }
    const auto c = cells(line);
    if (!in_table) {
      EXPECT_EQ(c, (std::vector<std::string>{"name", "type", "unit", "meaning"})) << heading;
      in_table = true;
      continue;
    }
    if (c.size() < 4 || c[0].rfind("---", 0) == 0) continue;
    std::string name = c[0];
    EXPECT_TRUE(name.size() > 2 && name.front() == '`' && name.back() == '`') << name;
    name = name.substr(1, name.size() - 2);
    if (!name.empty() && name.back() == '*') name.pop_back();
    EXPECT_TRUE(rows.emplace(name, Row{c[1], c[2] == "-" ? "" : c[2]}).second)
        << "documented twice: " << name;
  }
  return rows;
}

template <typename R>
std::map<std::string, Row> code_table() {
  std::map<std::string, Row> rows;
  for (const auto& f : fields_of<R>()) {
    if (f.stored) rows[std::string(f.name)] = {std::string(type_name(f)), std::string(f.unit)};
  }
  return rows;
}

std::map<std::string, Row> code_table(std::span<const AttributeSpec> specs) {
  std::map<std::string, Row> rows;
  for (const auto& a : specs)
    rows[std::string(a.name)] = {std::string(type_name(a.type)), std::string(a.unit)};
  return rows;
}

void expect_same(const std::map<std::string, Row>& doc, const std::map<std::string, Row>& code,
                 const std::string& what) {
  for (const auto& [name, row] : code) {
    const auto it = doc.find(name);
    if (it == doc.end()) {
      ADD_FAILURE() << what << ": `" << name << "` is declared but not in docs/schema.md";
      continue;
    }
    EXPECT_EQ(it->second.type, row.type) << what << ": type of " << name;
    EXPECT_EQ(it->second.unit, row.unit) << what << ": unit of " << name;
  }
  for (const auto& [name, row] : doc) {
    EXPECT_TRUE(code.count(name)) << what << ": `" << name
                                  << "` is documented but not declared in the code";
  }
}

TEST(SchemaDoc, ImageColumns) {
  expect_same(doc_table("## `/runs/<run>/images`"), code_table<ImageRecord>(), "images");
}

TEST(SchemaDoc, RankColumns) {
  expect_same(doc_table("## `/runs/<run>/ranks`"), code_table<RankRecord>(), "ranks");
}

TEST(SchemaDoc, InputColumns) {
  expect_same(doc_table("## `/inputs`"), code_table<InputFile>(), "inputs");
}

TEST(SchemaDoc, RootAttributes) {
  expect_same(doc_table("## Root attributes"), code_table(kRootAttributes), "root attributes");
}

TEST(SchemaDoc, RunAttributes) {
  expect_same(doc_table("## Run attributes"), code_table(kRunAttributes), "run attributes");
}

TEST(SchemaDoc, StatusNamesAndValues) {
  const std::string doc = read_doc();
  for (const auto& entry : names_of<ImageStatus>()) {
    const std::string row = "| " + std::to_string(static_cast<int>(entry.value)) + " | " +
                            std::string(entry.name) + " |";
    EXPECT_NE(doc.find(row), std::string::npos) << "docs/schema.md lacks the status row " << row;
  }
}

TEST(SchemaDoc, DocumentNamesThisSchema) {
  EXPECT_NE(read_doc().find(std::string("# graybench HDF5 results schema — `") + kSchema + "`"),
            std::string::npos);
}

}  // namespace
}  // namespace graybench
