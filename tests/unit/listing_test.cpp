#include <gtest/gtest.h>

#include <fstream>

#include "core/errors.hpp"
#include "io/listing.hpp"
#include "support/process.hpp"

namespace graybench {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

void touch(const fs::path& p, const std::string& content = "x") {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << content;
}

std::vector<std::string> paths(const InputList& l) {
  std::vector<std::string> out;
  for (const auto& f : l.files)
    out.push_back(f.path);
  return out;
}

TEST(Listing, ScansRecursivelyFiltersAndSorts) {
  TempDir d;
  touch(d / "b/z.png");
  touch(d / "a/deep/er/y.JPG");
  touch(d / "a/x.jpeg");
  touch(d / "a/notes.txt");
  touch(d / "c.bmp");
  touch(d / "noext");
  for (const char* e : {"t.tga", "g.gif", "p.pnm", "q.pgm", "r.ppm", "s.psd"})
    touch(d / "more" / e);
  const auto l = list_inputs({d.path().string()}, {});
  const fs::path root = d.path();
  std::vector<std::string> expected = {
      (root / "a/deep/er/y.JPG").string(), (root / "a/x.jpeg").string(),
      (root / "b/z.png").string(),         (root / "c.bmp").string(),
      (root / "more/g.gif").string(),      (root / "more/p.pnm").string(),
      (root / "more/q.pgm").string(),      (root / "more/r.ppm").string(),
      (root / "more/s.psd").string(),      (root / "more/t.tga").string()};
  EXPECT_EQ(paths(l), expected);
  EXPECT_EQ(l.root, root.string());
  EXPECT_EQ(l.files[0].size, 1u);
}

TEST(Listing, DuplicatesAreRemoved) {
  TempDir d;
  touch(d / "img/a.png");
  touch(d / "img/b.png");
  fs::create_directory_symlink(d / "img", d / "link");
  const auto l = list_inputs({(d / "img").string(), (d / "img/a.png").string(),
                              (d / "img/../img/b.png").string(), (d / "link/a.png").string()},
                             {});
  EXPECT_EQ(l.files.size(), 2u);
  EXPECT_EQ(l.files[0].path, (d / "img/a.png").string());
  EXPECT_EQ(l.files[1].path, (d / "img/b.png").string());
}

TEST(Listing, ListFileSkipsCommentsAndBlankLines) {
  TempDir d;
  touch(d / "x/1.png");
  touch(d / "y/2.jpg");
  std::ofstream(d / "list.txt") << "# inputs\n\n  " << (d / "y/2.jpg").string() << "  \r\n"
                                << (d / "x").string() << "\n";
  const auto l = list_inputs({}, {(d / "list.txt").string()});
  ASSERT_EQ(l.files.size(), 2u);
  EXPECT_EQ(l.files[0].path, (d / "x/1.png").string());
  EXPECT_EQ(l.root, d.path().string());
}

TEST(Listing, ClearErrors) {
  TempDir d;
  touch(d / "doc.txt");
  fs::create_directories(d / "empty");
  EXPECT_THROW(list_inputs({(d / "missing").string()}, {}), UsageError);
  EXPECT_THROW(list_inputs({(d / "empty").string()}, {}), UsageError);
  EXPECT_THROW(list_inputs({}, {(d / "nolist.txt").string()}), UsageError);
  try {
    list_inputs({(d / "doc.txt").string()}, {});
    FAIL() << "no exception";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("unsupported image type"), std::string::npos);
  }
  std::ofstream(d / "bad.txt") << (d / "nothere.png").string() << "\n";
  try {
    list_inputs({}, {(d / "bad.txt").string()});
    FAIL() << "no exception";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.txt:1:"), std::string::npos) << e.what();
  }
}

TEST(Listing, MirrorNamesKeepInputsApart) {
  EXPECT_EQ(mirror_name("a/x.png"), "a/x.png");
  EXPECT_EQ(mirror_name("a/x.PNG"), "a/x.PNG");
  EXPECT_EQ(mirror_name("a/x.jpg"), "a/x.jpg.png");
  TempDir d;
  touch(d / "a/x.png");
  touch(d / "b/x.png");
  touch(d / "b/x.jpg");
  const auto l = list_inputs({(d / "a").string(), (d / "b").string()}, {});
  ASSERT_EQ(l.files.size(), 3u);
  EXPECT_EQ(l.files[0].output_rel, "a/x.png");
  EXPECT_EQ(l.files[1].output_rel, "b/x.jpg.png");
  EXPECT_EQ(l.files[2].output_rel, "b/x.png");
}

TEST(Listing, SingleFileMirrorsToItsName) {
  TempDir d;
  touch(d / "sub/one.gif");
  const auto l = list_inputs({(d / "sub/one.gif").string()}, {});
  EXPECT_EQ(l.files.at(0).output_rel, "one.gif.png");
}

TEST(Listing, CollidingOutputsAreRefusedOnlyWhenWritten) {
  TempDir d;
  touch(d / "in/x.jpg");
  touch(d / "in/x.jpg.png");
  EXPECT_EQ(list_inputs({(d / "in").string()}, {}).files.size(), 2u);  // nothing is written
  EXPECT_THROW(list_inputs({(d / "in").string()}, {}, (d / "out").string()), UsageError);
}

TEST(Listing, OutputsMeetingThroughASymlinkedFolderAreRefused) {
  TempDir d;
  touch(d / "in/a/x.png");
  touch(d / "in/b/x.png");
  fs::create_directories(d / "out/a");
  fs::create_directory_symlink(d / "out/a", d / "out/b");  // out/b/x.png is out/a/x.png
  EXPECT_THROW(list_inputs({(d / "in").string()}, {}, (d / "out").string()), UsageError);
}

TEST(Listing, HardLinksAreOneFile) {
  TempDir d;
  touch(d / "a.png");
  fs::create_hard_link(d / "a.png", d / "b.png");
  EXPECT_EQ(list_inputs({d.path().string()}, {}).files.size(), 1u);
}

TEST(Listing, NeverOverwritesTheResultsFile) {
  TempDir d;
  touch(d / "in/x.jpg");
  const auto out = (d / "out").string();
  EXPECT_THROW(list_inputs({(d / "in").string()}, {}, out, (d / "out/x.jpg.png").string()),
               UsageError);
  EXPECT_NO_THROW(list_inputs({(d / "in").string()}, {}, out, (d / "out/r.h5").string()));
}

TEST(Listing, NeverOverwritesAnInput) {
  TempDir d;
  touch(d / "in/a.png");
  EXPECT_THROW(list_inputs({(d / "in").string()}, {}, (d / "in").string()), UsageError);
  // Outputs for non-PNG inputs get a new name, so writing beside them is allowed.
  touch(d / "jp/a.jpg");
  EXPECT_NO_THROW(list_inputs({(d / "jp").string()}, {}, (d / "jp").string()));
  touch(d / "file");
  EXPECT_THROW(list_inputs({(d / "jp").string()}, {}, (d / "file").string()), UsageError);
}

TEST(Listing, FingerprintDependsOnPathsAndSizes) {
  std::vector<InputFile> a = {{"/x.png", 10, ""}, {"/y.png", 20, ""}};
  auto b = a;
  EXPECT_EQ(fingerprint(a), fingerprint(b));
  b[1].size = 21;
  EXPECT_NE(fingerprint(a), fingerprint(b));
  EXPECT_EQ(fingerprint(a).size(), 16u);
}

}  // namespace
}  // namespace graybench
