// Golden token ids from Hugging Face's own tokenizer: the npm package `tokenizers`, the official
// Node binding of the Rust `tokenizers` library that BertTokenizerFast runs.
//
//   cd tests/tokenizer-reference && npm ci && node make_goldens.js
//
// Loads shared/vocab/tokenizer.json (bert-base-uncased: BertNormalizer, BertPreTokenizer,
// WordPiece, [CLS]/[SEP] template) offline and writes into tests/fixtures/tokenizer/:
//   codepoints.txt      what the normaliser and pre-tokenizer do to every code point
//   <corpus>.ids<N>     ids of each line of <corpus>.txt at max_length N (512 and 32)
//   random.txt/.ids512  random strings mixing characters of every Unicode class
const fs = require("fs");
const path = require("path");
const { Tokenizer } = require("tokenizers");

const root = path.resolve(__dirname, "..", "..");
const out = path.join(root, "tests", "fixtures", "tokenizer");
const tokenizerJson = path.resolve(root, "..", "shared", "vocab", "tokenizer.json");

function load(maxLength) {
  const t = Tokenizer.fromFile(tokenizerJson);
  if (maxLength) t.setTruncation(maxLength);
  return t;
}

// ---- every code point -----------------------------------------------------------------------
// Line forms, over runs of code points lo..hi (hex) that behave alike:
//   R lo hi N P     N: normaliser class, I identity, S " c ", D deleted, W " ", X mapped (below)
//                   P: pre-tokenizer on "x" c "x": 1 one word, 2 split (whitespace), 3 c alone (punctuation)
//   M cp hex...     the normalised code points of a mapped (X) code point
function codepoints() {
  const t = load(0);
  const norm = t.getNormalizer();
  const pre = t.getPreTokenizer();
  const lines = [];
  const maps = [];
  let run = null;
  for (let cp = 0; cp < 0x110000; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;  // not characters; a JS string cannot carry them alone
    const c = String.fromCodePoint(cp);
    const n = norm.normalizeString(c);
    let cls;
    if (n === c) cls = "I";
    else if (n === " " + c + " ") cls = "S";
    else if (n === "") cls = "D";
    else if (n === " ") cls = "W";
    else {
      cls = "X";
      maps.push("M " + cp.toString(16) + " " + Array.from(n).map((ch) => ch.codePointAt(0).toString(16)).join(" "));
    }
    const p = String(pre.preTokenizeString("x" + c + "x").length);
    const key = cls + " " + p;
    if (run && run.key === key && run.hi === cp - 1) run.hi = cp;
    else {
      if (run) lines.push(`R ${run.lo.toString(16)} ${run.hi.toString(16)} ${run.key}`);
      run = { lo: cp, hi: cp, key };
    }
  }
  lines.push(`R ${run.lo.toString(16)} ${run.hi.toString(16)} ${run.key}`);
  fs.writeFileSync(path.join(out, "codepoints.txt"), lines.concat(maps).join("\n") + "\n");
  console.log(`codepoints.txt: ${lines.length} runs, ${maps.length} mapped`);
}

// ---- corpora ----------------------------------------------------------------------------------
async function ids(file, maxLength) {
  const t = load(maxLength);
  const text = fs.readFileSync(path.join(out, file), "utf8");
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const result = [];
  for (const line of lines) {
    const e = await t.encode(line.replace(/\r$/, ""));
    result.push(e.getIds().join(" "));
  }
  const name = file.replace(/\.txt$/, `.ids${maxLength}`);
  fs.writeFileSync(path.join(out, name), result.join("\n") + "\n");
  console.log(`${name}: ${result.length} lines`);
}

// ---- random strings from every class ---------------------------------------------------------
// A deterministic generator, so the strings can be regenerated and reviewed.
function randomStrings() {
  let state = 0x12345678n;
  const next = () => {
    state = (state * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
    return Number(state >> 33n);
  };
  // Code point pools by what they exercise.
  const ranges = [
    [0x20, 0x7e], [0x00, 0x1f], [0x80, 0xff], [0x100, 0x24f], [0x300, 0x36f], [0x370, 0x3ff], [0x400, 0x4ff],
    [0x590, 0x6ff], [0x900, 0x97f], [0xe00, 0xe7f], [0x1100, 0x11ff], [0x1e00, 0x1eff], [0x2000, 0x206f],
    [0x20a0, 0x20cf], [0x2100, 0x214f], [0x2190, 0x23ff], [0x2e00, 0x2e7f], [0x3000, 0x303f], [0x3040, 0x30ff],
    [0x3400, 0x4dbf], [0x4e00, 0x9fff], [0xac00, 0xd7a3], [0xe000, 0xe0ff], [0xf900, 0xfaff], [0xfb00, 0xfb4f],
    [0xfe00, 0xfe6f], [0xff00, 0xffef], [0xfff0, 0xffff], [0x10000, 0x1007f], [0x1d400, 0x1d7ff],
    [0x1f300, 0x1faff], [0x20000, 0x2a6df], [0xe0000, 0xe007f], [0xf0000, 0xf00ff], [0x30000, 0x3134f],
  ];
  const lines = [];
  for (let i = 0; i < 3000; i++) {
    const len = 1 + (next() % 40);
    let s = "";
    for (let k = 0; k < len; k++) {
      const r = next() % 4 === 0 ? [0x20, 0x7e] : ranges[next() % ranges.length];
      let cp = r[0] + (next() % (r[1] - r[0] + 1));
      if (cp >= 0xd800 && cp <= 0xdfff) cp = 0x41;
      if (cp === 0x0a || cp === 0x0d) cp = 0x20;  // one string per line
      s += String.fromCodePoint(cp);
    }
    lines.push(s);
  }
  fs.writeFileSync(path.join(out, "random.txt"), lines.join("\n") + "\n");
}

(async () => {
  codepoints();
  randomStrings();
  for (const corpus of ["english.txt", "hard.txt"]) for (const n of [512, 32]) await ids(corpus, n);
  await ids("random.txt", 512);  // its lines are short: 512 and 32 give the same ids
  await ids("model-card.txt", 32);  // the model card's sentences, at its max_length
  // both sides of the STS sample (tests/fixtures/sts/pairs.tsv: score, s1, s2)
  const t = load(512);
  const sts = path.join(root, "tests", "fixtures", "sts");
  const rows = fs.readFileSync(path.join(sts, "pairs.tsv"), "utf8").split("\n").filter((l) => l).map((l) => l.split("\t"));
  for (const [side, col] of [["s1", 1], ["s2", 2]]) {
    const out = [];
    for (const r of rows) out.push((await t.encode(r[col])).getIds().join(" "));
    fs.writeFileSync(path.join(sts, `${side}.ids512`), out.join("\n") + "\n");
  }
})();
