// micse-embed MODEL.gguf [INPUT] [-o OUT] [--format tsv|npy|jsonl] [--ids] [--max-length N]
//             [--batch-size N] [--threads N] [--pooling cls|mean] [--normalize]
// One embedding per input line, in input order; the input streams through in batches.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <algorithm>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <micse/micse.hpp>

#include "common/cli.hpp"
#include "common/progress.hpp"

static const char* kUsage =
    "usage: micse-embed MODEL.gguf [INPUT] [-o OUT] [--format tsv|npy|jsonl] [--ids]\n"
    "                   [--max-length N] [--batch-size N] [--threads N]\n"
    "                   [--pooling cls|mean] [--normalize] [--progress]\n"
    "\n"
    "Writes one embedding per input line (UTF-8, '\\n'-separated; a trailing '\\r' is dropped),\n"
    "in input order. INPUT defaults to standard input, OUT to standard output.\n"
    "\n"
    "  --ids            each line is whitespace-separated token ids, used as they are\n"
    "                   (they already hold [CLS] and [SEP])\n"
    "  --format F       tsv (default; tab-separated, %.9g), npy (float32 [N, hidden];\n"
    "                   needs -o), jsonl ({\"embedding\": [...]} per line)\n"
    "  --max-length N   longest sequence in tokens (default: the model's maximum)\n"
    "  --batch-size N   sequences per forward pass (default 32)\n"
    "  --threads N      threads (default 0: all cores)\n"
    "  --pooling P      cls (default for miCSE) or mean\n"
    "  --normalize      scale every embedding to unit length\n"
    "  --progress       show progress (rate, ETA) even when stderr is not a terminal\n"
    "  --help           this text\n";

namespace {

enum class Format { tsv, npy, jsonl };

// Writes rows as they come; npy's row count is patched into the header at the end.
class Output {
public:
    Output(const std::string& path, Format format, int dim) : format_(format), dim_(dim) {
        if (!path.empty()) {
            file_.open(path, std::ios::binary | std::ios::trunc);
            if (!file_) throw micse::Error(path + ": cannot open for writing");
            out_ = &file_;
        }
        path_ = path.empty() ? "standard output" : path;
        if (format_ == Format::npy) {
            // Reserve a header wide enough for any row count, then rewrite it at the end.
            header_size_ = micse::cli::npy_header(std::uint64_t(1) << 60, std::uint64_t(dim)).size();
            *out_ << std::string(header_size_, ' ');
        }
    }

    void write(const Eigen::MatrixXf& rows) {
        char buf[32];
        for (Eigen::Index r = 0; r < rows.rows(); ++r) {
            if (format_ == Format::npy) {
                const Eigen::RowVectorXf row = rows.row(r);
                out_->write(reinterpret_cast<const char*>(row.data()), std::streamsize(sizeof(float) * std::size_t(dim_)));
            } else {
                std::string line = format_ == Format::jsonl ? "{\"embedding\": [" : "";
                for (Eigen::Index c = 0; c < rows.cols(); ++c) {
                    std::snprintf(buf, sizeof buf, "%.9g", double(rows(r, c)));
                    if (c) line += format_ == Format::jsonl ? ", " : "\t";
                    line += buf;
                }
                line += format_ == Format::jsonl ? "]}\n" : "\n";
                *out_ << line;
            }
            ++rows_;
        }
        if (!*out_) throw micse::Error(path_ + ": write failed");
    }

    void finish() {
        if (format_ == Format::npy) {
            std::string h = micse::cli::npy_header(rows_, std::uint64_t(dim_));
            // pad the real header to the reserved width (spaces before the final newline)
            h.insert(h.size() - 1, header_size_ - h.size(), ' ');
            const std::uint16_t len = std::uint16_t(header_size_ - 10);
            h[8] = char(len & 0xff);
            h[9] = char(len >> 8);
            file_.seekp(0);
            file_.write(h.data(), std::streamsize(h.size()));
        }
        out_->flush();
        if (!*out_) throw micse::Error(path_ + ": write failed");
    }

private:
    Format format_;
    int dim_;
    std::ofstream file_;
    std::ostream* out_ = &std::cout;
    std::string path_;
    std::size_t header_size_ = 0;
    std::uint64_t rows_ = 0;
};

std::vector<std::int32_t> parse_ids(const std::string& line, std::uint64_t line_no, const std::string& source) {
    std::vector<std::int32_t> ids;
    std::istringstream in(line);
    std::string tok;
    while (in >> tok) {
        try {
            std::size_t used = 0;
            const long long v = std::stoll(tok, &used);
            if (used != tok.size() || v < 0 || v > INT32_MAX) throw std::out_of_range("");
            ids.push_back(std::int32_t(v));
        } catch (const std::logic_error&) {
            throw micse::Error(source + ": line " + std::to_string(line_no) + ": '" + tok + "' is not a token id");
        }
    }
    if (ids.empty()) throw micse::Error(source + ": line " + std::to_string(line_no) + ": no token ids");
    return ids;
}

}  // namespace

int main(int argc, char** argv) {
    using micse::cli::UsageError;
    std::string model, input, output;
    Format format = Format::tsv;
    bool ids_mode = false, progress = false;
    micse::EncoderOptions options;
    try {
        micse::cli::Args args(argc, argv);
        while (args.next()) {
            if (args.is("--help") || args.is("-h")) {
                std::cout << kUsage;
                return 0;
            } else if (args.is("-o") || args.is("--output")) {
                output = args.value();
            } else if (args.is("--format")) {
                const std::string f = args.value();
                if (f == "tsv") format = Format::tsv;
                else if (f == "npy") format = Format::npy;
                else if (f == "jsonl") format = Format::jsonl;
                else throw UsageError("--format must be tsv, npy or jsonl, got '" + f + "'");
            } else if (args.is("--ids")) {
                ids_mode = true;
            } else if (args.is("--max-length")) {
                options.max_length = micse::cli::parse_int("--max-length", args.value(), 2, 1 << 20);
            } else if (args.is("--batch-size")) {
                options.batch_size = micse::cli::parse_int("--batch-size", args.value(), 1, 1 << 20);
            } else if (args.is("--threads")) {
                options.threads = micse::cli::parse_int("--threads", args.value(), 0, 4096);
            } else if (args.is("--pooling")) {
                const std::string p = args.value();
                if (p != "cls" && p != "mean") throw UsageError("--pooling must be cls or mean, got '" + p + "'");
                options.pooling = micse::parse_pooling(p);
            } else if (args.is("--normalize")) {
                options.normalize = true;
            } else if (args.is("--progress")) {
                progress = true;
            } else {
                args.operand({&model, &input});
            }
        }
        if (model.empty()) throw UsageError("needs MODEL.gguf");
        if (format == Format::npy && output.empty()) throw UsageError("--format npy needs -o OUT");
    } catch (const UsageError& e) {
        std::cerr << "micse-embed: " << e.what() << "\n" << kUsage;
        return 2;
    }
    try {
        const micse::Encoder encoder(model, options);
        std::ifstream file;
        std::istream* in = &std::cin;
        const std::string source = input.empty() || input == "-" ? "standard input" : input;
        if (!input.empty() && input != "-") {
            file.open(input, std::ios::binary);
            if (!file) throw micse::Error(input + ": cannot open");
            in = &file;
        }
        Output out(output, format, encoder.dimension());
        // The input streams through a window of lines: each window is tokenized, its sequences
        // sorted by length so each forward pass holds similar lengths, embedded batch by batch,
        // and written back in input order. Memory is bounded by the window, whatever the input.
        const std::size_t window = std::size_t(options.batch_size) * 16;
        std::vector<std::vector<std::int32_t>> seqs;
        Eigen::MatrixXf rows;
        std::string line;
        std::uint64_t line_no = 0, total_bytes = 0, bytes_read = 0;
        if (in == &file) {
            file.seekg(0, std::ios::end);
            total_bytes = std::uint64_t(std::max<std::streamoff>(0, file.tellg()));
            file.seekg(0);
        }
        micse::cli::Progress bar(0, "lines", progress);
        const micse::Tokenizer* tokenizer = ids_mode ? nullptr : &encoder.tokenizer();
        auto flush = [&] {
            if (seqs.empty()) return;
            std::vector<std::size_t> order(seqs.size());
            for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
            std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return seqs[a].size() < seqs[b].size(); });
            std::vector<std::vector<std::int32_t>> sorted;
            for (auto i : order) sorted.push_back(std::move(seqs[i]));
            Eigen::MatrixXf embedded;
            try {
                embedded = encoder.encode_ids(sorted);
            } catch (const micse::Error& e) {
                throw micse::Error(source + ": lines " + std::to_string(line_no - seqs.size() + 1) + "-" +
                                   std::to_string(line_no) + ": " + e.what());
            }
            rows.resize(embedded.rows(), embedded.cols());
            for (std::size_t k = 0; k < order.size(); ++k) rows.row(Eigen::Index(order[k])) = embedded.row(Eigen::Index(k));
            out.write(rows);
            if (total_bytes) bar.set_total(std::uint64_t(double(line_no) * double(total_bytes) / double(std::max<std::uint64_t>(bytes_read, 1))));
            bar.advance(seqs.size());
            seqs.clear();
        };
        while (micse::cli::read_line(*in, line)) {
            ++line_no;
            bytes_read += line.size() + 1;
            if (tokenizer) {
                // A blank line is most often a paragraph break or a stray newline, not a sentence:
                // embedding it would put a meaningless row among the caller's results.
                if (line.find_first_not_of(" \t\r") == std::string::npos)
                    throw micse::Error(source + ": line " + std::to_string(line_no) + " is empty (one sentence per line)");
                try {
                    seqs.push_back(tokenizer->encode(line, encoder.options().max_length));
                } catch (const micse::Error& e) {
                    throw micse::Error(source + ": line " + std::to_string(line_no) + ": " + e.what());
                }
            } else {
                seqs.push_back(parse_ids(line, line_no, source));
            }
            if (seqs.size() == window) flush();
        }
        if (in->bad()) throw micse::Error(source + ": read failed");
        if (line_no == 0) throw micse::Error(source + ": no input lines: nothing to embed");
        flush();
        out.finish();
        bar.set_total(line_no);
        bar.finish();
    } catch (const std::exception& e) {
        std::cerr << "micse-embed: " << e.what() << "\n";
        if (!output.empty()) std::remove(output.c_str());  // no half-written output
        return 1;
    }
    return 0;
}
