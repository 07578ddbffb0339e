// tools/derivatives: every record site has its formula comment and docs/derivatives.md is the
// table those comments generate (so the table cannot disagree with the code); and the tool's
// parser, on small hand-made source trees.
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>

#include "test_util.h"

using namespace minidl;
using minidl::testing::read_text;
using minidl::testing::run_command;
using minidl::testing::source_root;
using minidl::testing::TempDir;

namespace {

std::string derivatives_tool() {
  return minidl::testing::build_dir() + "/derivatives";
}

void write(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

}  // namespace

TEST_CASE("derivatives: every recorded op has a formula and docs/derivatives.md is current",
          "[derivatives]") {
  auto r = run_command(derivatives_tool() + " --check --root " + source_root().string() + " 2>&1");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK_THAT(r.output, Catch::Contains("table up to date"));
  // The table holds the ops everyone uses, with their gradients.
  const std::string table = read_text(source_root() / "docs/derivatives.md");
  CHECK_THAT(table, Catch::Contains("| MulBackward0 | `out = a * b` | `da = dout * b`<br>`db = "
                                    "dout * a` | [ops/binary.cpp:"));
  CHECK_THAT(table, Catch::Contains("| NativeLayerNormBackward0 |"));
  CHECK_THAT(table, Catch::Contains("| LstmBackward0 |"));
  CHECK_THAT(table, Catch::Contains("## Derivations of the fused kernels"));
}

TEST_CASE("derivatives: parses formulas, continuation lines and derivation blocks",
          "[derivatives]") {
  TempDir dir;
  write(dir.path / "ops/toy.cpp",
        "Tensor toy(const Tensor& a, const Tensor& b) {\n"
        "  // out = a * f(b, c) ;  da = dout * f(b, c) ,  db = dout * a * f'(b, c) ,\n"
        "  //   dc[i, j] = dout * g(a, b)\n"
        "  // derivation: with u = f(b, c),\n"
        "  //   d(a u)/da = u\n"
        "  MINIDL_DISPATCH_FLOATING(a.dtype(), \"ToyBackward0\", {});\n"
        "  record(\"ToyBackward0\", out, {a, b, c}, fn);\n"
        "}\n"
        "// out = fill ;  no gradient reaches the old values\n"
        "void fill() { record(\"FillBackward9\", out, {}, fn); }\n");
  const std::string out = dir.file("table.md");
  auto r =
      run_command(derivatives_tool() + " --root " + dir.path.string() + " --out " + out + " 2>&1");
  INFO(r.output);
  REQUIRE(r.status == 0);
  const std::string table = read_text(out);
  // One row for the record site; the dispatch label (the same name) is no record site.
  CHECK_THAT(table, Catch::Contains("| ToyBackward0 | `out = a * f(b, c)` | `da = dout * f(b, "
                                    "c)`<br>`db = dout * a * f'(b, c)`<br>`dc[i, j] = dout * "
                                    "g(a, b)` | [ops/toy.cpp:2](../ops/toy.cpp#L2) |"));
  CHECK(table.find("ToyBackward0 |") == table.rfind("ToyBackward0 |"));
  CHECK_THAT(table, Catch::Contains("| FillBackward9 | `out = fill` | no gradient reaches the "
                                    "old values |"));
  CHECK_THAT(table, Catch::Contains("### ToyBackward0 ([ops/toy.cpp:2]"));
  CHECK_THAT(table, Catch::Contains("derivation: with u = f(b, c),\n  d(a u)/da = u\n```"));

  // The table just written is current; a changed formula makes it stale.
  r = run_command(derivatives_tool() + " --check --root " + dir.path.string() + " --out " + out +
                  " 2>&1");
  CHECK(r.status == 0);
  std::string source = read_text(dir.path / "ops/toy.cpp");
  source.replace(source.find("db = dout * a"), 13, "db = dout * 2");
  write(dir.path / "ops/toy.cpp", source);
  r = run_command(derivatives_tool() + " --check --root " + dir.path.string() + " --out " + out +
                  " 2>&1");
  CHECK(r.status != 0);
  CHECK_THAT(r.output, Catch::Contains("is stale") && Catch::Contains("run build/derivatives"));
}

TEST_CASE("derivatives: a record site without a formula or without gradients is an error",
          "[derivatives]") {
  TempDir dir;
  write(dir.path / "ops/bad.cpp",
        "Tensor bad(const Tensor& x) {\n"
        "  // computes something\n"
        "  record(\"BadBackward0\", out, {x}, fn);\n"
        "}\n"
        "// out = x + 1 ;  as before\n"
        "Tensor worse(const Tensor& x) { record(\"WorseBackward0\", out, {x}, fn); }\n");
  auto r = run_command(derivatives_tool() + " --check --root " + dir.path.string() + " --out " +
                       dir.file("table.md") + " 2>&1");
  INFO(r.output);
  CHECK(r.status != 0);
  CHECK_THAT(r.output, Catch::Contains("ops/bad.cpp:3: BadBackward0 has no formula comment"));
  CHECK_THAT(r.output, Catch::Contains("ops/bad.cpp:5: the formula of WorseBackward0 names no "
                                       "gradient"));

  // Not a source tree: a message saying what to do, exit status 2.
  r = run_command(derivatives_tool() + " --root " + dir.file("nowhere") + " 2>&1");
  CHECK(WEXITSTATUS(r.status) == 2);
  CHECK_THAT(r.output, Catch::Contains("is not the minidl source tree"));
}
