// The tokenizer benchmark's workload through Hugging Face's tokenizers (npm, the Node binding of
// the Rust library), on one thread: every line of tests/fixtures/tokenizer/english.txt encoded
// with [CLS]/[SEP] and truncation at 512. Prints the median MB/s of 5 runs, both for one
// encode() call per line and for one encodeBatch() call over all lines.
//   RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false node bench/tokenizer_reference.js
// (bench/compare_tokenizer.sh sets both.) Needs `npm ci` in tests/tokenizer-reference.
const path = require("path");
const fs = require("fs");
const root = path.resolve(__dirname, "..");
const { Tokenizer } = require(path.join(root, "tests", "tokenizer-reference", "node_modules", "tokenizers"));

const tok = Tokenizer.fromFile(path.resolve(root, "..", "shared", "vocab", "tokenizer.json"));
tok.setTruncation(512);
const lines = fs.readFileSync(path.join(root, "tests", "fixtures", "tokenizer", "english.txt"), "utf8").split("\n");
if (lines[lines.length - 1] === "") lines.pop();
const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l), 0);

function median(v) {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

(async () => {
  for (let i = 0; i < 2; i++) await tok.encodeBatch(lines);  // warm up
  const single = [], batch = [];
  for (let r = 0; r < 5; r++) {
    let t0 = process.hrtime.bigint();
    for (const l of lines) await tok.encode(l);
    single.push(bytes / (Number(process.hrtime.bigint() - t0) / 1e9) / 1e6);
    t0 = process.hrtime.bigint();
    await tok.encodeBatch(lines);
    batch.push(bytes / (Number(process.hrtime.bigint() - t0) / 1e9) / 1e6);
  }
  console.log(`reference encode:      ${median(single).toFixed(2)} MB/s`);
  console.log(`reference encodeBatch: ${median(batch).toFixed(2)} MB/s`);
})();
