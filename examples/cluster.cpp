// cluster MODEL.gguf DATA.tsv [-k K] [-o clusters.svg] [--max-length N] [--seed S]
// The model card's second example: embed a labelled data set (`label<TAB>text` lines), cluster
// the embeddings with k-means (k-means++ seeds; k = the number of labels by default), project
// them to 2-D with PCA, write an SVG scatter plot coloured by label with one marker shape per
// cluster, and print how well the clusters agree with the labels (NMI and purity).
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <micse/micse.hpp>

#include "common/cli.hpp"
#include "common/progress.hpp"
#include "stats.hpp"

static const char* kUsage =
    "usage: cluster MODEL.gguf DATA.tsv [-k K] [-o clusters.svg] [--max-length N] [--seed S] [--progress]\n"
    "\n"
    "Embeds each `label<TAB>text` line, clusters the [CLS] embeddings with k-means,\n"
    "writes a 2-D scatter plot (PCA) coloured by label, one marker shape per cluster,\n"
    "and prints the agreement between clusters and labels (NMI and purity).\n"
    "\n"
    "  -k K             number of clusters (default: the number of labels)\n"
    "  -o FILE          the plot (default clusters.svg in the current folder)\n"
    "  --max-length N   tokens per sentence (default: the model's maximum)\n"
    "  --seed S         k-means seed (default 0)\n"
    "  --progress       show the embedding progress even when stderr is not a terminal\n"
    "  --help           this text\n";

namespace {

std::string escape(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '&') o += "&amp;";
        else if (c == '<') o += "&lt;";
        else if (c == '>') o += "&gt;";
        else if (c == '"') o += "&quot;";
        else o += c;
    }
    return o;
}

// Okabe & Ito's colour-blind-safe palette, then a few more.
const char* kColours[] = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
                          "#CC79A7", "#000000", "#999999", "#882255", "#44AA99", "#117733"};

std::string marker(int shape, double x, double y, const char* colour, const std::string& title) {
    char b[512];
    const double r = 6;
    const char* style = "stroke=\"#333\" stroke-width=\"0.8\" fill-opacity=\"0.85\"";
    switch (shape % 4) {
        case 0: std::snprintf(b, sizeof b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\" %s>", x, y, r, colour, style); break;
        case 1: std::snprintf(b, sizeof b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" %s>", x - r, y - r, 2 * r, 2 * r, colour, style); break;
        case 2: std::snprintf(b, sizeof b, "<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"%s\" %s>", x, y - r * 1.2, x - r * 1.1, y + r * 0.8, x + r * 1.1, y + r * 0.8, colour, style); break;
        default: std::snprintf(b, sizeof b, "<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"%s\" %s>", x, y - r * 1.3, x + r * 1.3, y, x, y + r * 1.3, x - r * 1.3, y, colour, style);
    }
    const std::string tag = std::string(b);
    const std::string close = shape % 4 == 0 ? "</circle>" : shape % 4 == 1 ? "</rect>" : "</polygon>";
    return tag + "<title>" + escape(title) + "</title>" + close + "\n";
}

}  // namespace

int main(int argc, char** argv) {
    using micse::cli::UsageError;
    std::string model, data, output = "clusters.svg";
    int k = 0;
    unsigned seed = 0;
    bool progress = false;
    micse::EncoderOptions options;
    try {
        micse::cli::Args args(argc, argv);
        while (args.next()) {
            if (args.is("--help") || args.is("-h")) {
                std::cout << kUsage;
                return 0;
            } else if (args.is("-k")) {
                k = micse::cli::parse_int("-k", args.value(), 1, 1 << 16);
            } else if (args.is("-o")) {
                output = args.value();
            } else if (args.is("--max-length")) {
                options.max_length = micse::cli::parse_int("--max-length", args.value(), 2, 1 << 20);
            } else if (args.is("--seed")) {
                seed = unsigned(micse::cli::parse_int("--seed", args.value(), 0, 1 << 30));
            } else if (args.is("--progress")) {
                progress = true;
            } else {
                args.operand({&model, &data});
            }
        }
        if (data.empty()) throw UsageError("needs MODEL.gguf and DATA.tsv");
    } catch (const UsageError& e) {
        std::cerr << "cluster: " << e.what() << "\n" << kUsage;
        return 2;
    }
    try {
        std::ifstream in(data, std::ios::binary);
        if (!in) throw micse::Error(data + ": cannot open");
        std::vector<std::string> texts, label_names;
        std::vector<int> labels;
        std::map<std::string, int> label_id;
        std::string line;
        for (std::size_t n = 1; micse::cli::read_line(in, line); ++n) {
            if (line.empty()) continue;
            const auto tab = line.find('\t');
            if (tab == std::string::npos) throw micse::Error(data + ": line " + std::to_string(n) + ": no tab between label and text");
            const std::string label = line.substr(0, tab);
            if (!label_id.count(label)) {
                label_id[label] = int(label_names.size());
                label_names.push_back(label);
            }
            labels.push_back(label_id[label]);
            texts.push_back(line.substr(tab + 1));
        }
        if (texts.size() < 2) throw micse::Error(data + ": needs at least two labelled lines");
        if (k == 0) k = int(label_names.size());
        if (std::size_t(k) > texts.size()) throw micse::Error("-k " + std::to_string(k) + " is more than the " + std::to_string(texts.size()) + " items");

        const micse::Encoder encoder(model, options);
        Eigen::MatrixXd x(Eigen::Index(texts.size()), encoder.dimension());  // [items, hidden]
        micse::cli::Progress bar(texts.size(), "sentences", progress);
        const std::size_t step = std::size_t(options.batch_size);
        for (std::size_t i = 0; i < texts.size(); i += step) {
            const std::vector<std::string> part(texts.begin() + std::ptrdiff_t(i),
                                                texts.begin() + std::ptrdiff_t(std::min(texts.size(), i + step)));
            x.middleRows(Eigen::Index(i), Eigen::Index(part.size())) = encoder.encode(part).cast<double>();
            bar.advance(part.size());
        }
        bar.finish();
        x.rowwise().normalize();  // cosine geometry: k-means on the unit sphere

        const auto km = micse::stats::kmeans(x, k, seed);
        const Eigen::MatrixXd p = micse::stats::pca2(x);  // [items, 2]
        const double nmi = micse::stats::nmi(km.assignment, labels), purity = micse::stats::purity(km.assignment, labels);

        // The plot: 800 x 600, the points scaled into a margin-framed box, a legend at the right.
        const double W = 800, H = 600, left = 40, top = 50, plot_w = 560, plot_h = 500;
        const Eigen::Vector2d lo = p.colwise().minCoeff(), hi = p.colwise().maxCoeff();
        const double span = std::max({hi(0) - lo(0), hi(1) - lo(1), 1e-12});
        std::ofstream svg(output, std::ios::binary | std::ios::trunc);
        if (!svg) throw micse::Error(output + ": cannot open for writing");
        char b[512];
        std::snprintf(b, sizeof b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\">\n", W, H, W, H);
        svg << b << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
        std::snprintf(b, sizeof b, "<text x=\"%.0f\" y=\"28\" font-size=\"18\">%s: %zu sentences, k-means k=%d (NMI %.3f, purity %.3f)</text>\n",
                      left, escape(data.substr(data.find_last_of('/') + 1)).c_str(), texts.size(), k, nmi, purity);
        svg << b;
        std::snprintf(b, sizeof b, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#bbb\"/>\n", left, top, plot_w, plot_h);
        svg << b;
        for (Eigen::Index i = 0; i < p.rows(); ++i) {
            const double px = left + 15 + (p(i, 0) - lo(0)) / span * (plot_w - 30);
            const double py = top + plot_h - 15 - (p(i, 1) - lo(1)) / span * (plot_h - 30);
            const int l = labels[std::size_t(i)], c = km.assignment[std::size_t(i)];
            svg << marker(c, px, py, kColours[l % 12], label_names[std::size_t(l)] + " / cluster " + std::to_string(c) + ": " + texts[std::size_t(i)]);
        }
        double y = top + 10;
        svg << "<text x=\"620\" y=\"" << y << "\" font-size=\"14\" font-weight=\"bold\">label (colour)</text>\n";
        for (std::size_t l = 0; l < label_names.size(); ++l) {
            y += 22;
            svg << marker(0, 632, y - 5, kColours[l % 12], label_names[l]);
            svg << "<text x=\"646\" y=\"" << y << "\" font-size=\"14\">" << escape(label_names[l]) << "</text>\n";
        }
        y += 36;
        svg << "<text x=\"620\" y=\"" << y << "\" font-size=\"14\" font-weight=\"bold\">cluster (shape)</text>\n";
        for (int c = 0; c < k && c < 8; ++c) {
            y += 22;
            svg << marker(c, 632, y - 5, "#ffffff", "cluster " + std::to_string(c));
            svg << "<text x=\"646\" y=\"" << y << "\" font-size=\"14\">cluster " << c << "</text>\n";
        }
        svg << "<text x=\"" << left << "\" y=\"" << (top + plot_h + 30) << "\" font-size=\"12\" fill=\"#555\">"
            << "PCA of the [CLS] embeddings (unit length); axes: first two principal components</text>\n</svg>\n";
        svg.close();
        if (!svg) throw micse::Error(output + ": write failed");
        std::printf("items %zu\nlabels %zu\nclusters %d\nnmi %.4f\npurity %.4f\nplot %s\n", texts.size(), label_names.size(), k, nmi, purity, output.c_str());
    } catch (const std::exception& e) {
        std::cerr << "cluster: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
