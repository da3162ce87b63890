// Reference: the catalogue of bad inputs in docs/errors.md. The entries about model files,
// checkpoints, pickles and ids are tested next to the code they exercise (test_gguf, test_convert,
// test_pickle, test_bert, test_encoder, test_tokenizer, test_tools); this file holds the
// command-line entries: each bad input gives exit status 1, one line on stderr naming the file
// and the problem, and no output file.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "converted.hpp"

namespace {

// Runs `command` with stderr to a file; checks exit status 1 and one line that contains every
// one of `needles`.
void expect_one_line_error(const test::TempDir& dir, const std::string& command, const std::vector<std::string>& needles) {
    INFO(command);
    REQUIRE(test::run(command + " 2> " + test::quote(dir / "err.txt")) == 1);
    const std::string err = test::slurp(dir / "err.txt");
    INFO(err);
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
    for (const auto& n : needles) CHECK(err.find(n) != std::string::npos);
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

}  // namespace

TEST_CASE("micse-embed refuses bad text input by line, and writes nothing", "[tools][damaged][errors]") {
    test::TempDir dir;
    const std::string embed = test::quote(test::tool("micse-embed").string()) + " " + test::quote(test::converted("sharp"));
    const std::string out = dir / "out.tsv";
    SECTION("an empty line") {
        write_text(dir / "in.txt", "a sentence\n\nanother\n");
        expect_one_line_error(dir, embed + " " + test::quote(dir / "in.txt") + " -o " + test::quote(out), {"in.txt: line 2 is empty"});
    }
    SECTION("an empty input") {
        write_text(dir / "in.txt", "");
        expect_one_line_error(dir, embed + " " + test::quote(dir / "in.txt") + " -o " + test::quote(out), {"in.txt: no input lines"});
    }
    SECTION("an empty batch of ids") {
        expect_one_line_error(dir, embed + " --ids -o " + test::quote(out) + " < /dev/null", {"standard input: no input lines"});
    }
    SECTION("invalid UTF-8") {
        write_text(dir / "in.txt", "fine\nbad \xc3\x28 here\n");
        expect_one_line_error(dir, embed + " " + test::quote(dir / "in.txt") + " -o " + test::quote(out),
                              {"in.txt: line 2: invalid UTF-8 at byte 4 (0xc3)"});
    }
    SECTION("an output path that cannot be written") {
        write_text(dir / "in.txt", "a sentence\n");
        expect_one_line_error(dir, embed + " " + test::quote(dir / "in.txt") + " -o " + test::quote(dir / "no-such-dir/out.tsv"),
                              {"no-such-dir/out.tsv"});
    }
    CHECK_FALSE(std::filesystem::exists(out));
}

TEST_CASE("micse-tokenize refuses invalid UTF-8 by line", "[tools][damaged][errors]") {
    test::TempDir dir;
    write_text(dir / "in.txt", "fine\n\xff\n");
    expect_one_line_error(dir, test::quote(test::tool("micse-tokenize").string()) + " " + test::quote(test::converted("sharp")) + " " +
                                   test::quote(dir / "in.txt") + " > /dev/null",
                          {"in.txt: line 2: invalid UTF-8 at byte 0 (0xff)"});
}

TEST_CASE("micse-convert: an output that cannot be written, or a disk that fills, leaves nothing", "[tools][damaged][errors]") {
    test::TempDir dir;
    const std::string conv = test::quote(test::tool("micse-convert").string()) + " " + test::quote(test::hf_fixture("plain").string());
    SECTION("an output folder that does not exist") {
        expect_one_line_error(dir, conv + " " + test::quote(dir / "no-such-dir/out.gguf"), {"no-such-dir/out.gguf"});
        CHECK_FALSE(std::filesystem::exists(dir / "no-such-dir"));
    }
    SECTION("a disk that fills during the write") {
        // A file-size limit makes write() fail part-way (EFBIG) as a full disk does (ENOSPC); with
        // SIGXFSZ ignored the converter sees the failed write instead of being killed. 64 KiB is
        // well inside the ~200 KB model, so the failure comes in the middle of the tensor data.
        const std::string out = dir / "out.gguf";
        expect_one_line_error(dir, "sh -c \"trap '' XFSZ; ulimit -f 64; exec " + conv + " " + test::quote(out) + "\"", {"out.gguf"});
        CHECK_FALSE(std::filesystem::exists(out));
        CHECK_FALSE(std::filesystem::exists(out + ".tmp-micse"));
    }
}
