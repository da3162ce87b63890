// llama.cpp (node-llama-cpp's prebuilt CPU binary) on the side-by-side workloads: one sequence
// per call, as its embedding context takes them, with the pooling the GGUF declares (CLS).
// Workloads with a sequence of the model's full context (512 tokens) are left out: llama.cpp
// needs one position more than the sequence. Prints JSON {workload: sentences per second}.
//   node bench/reference/run_llamacpp.mjs MODEL.gguf WORKLOADS.json [REPEATS]
// node-llama-cpp comes from tests/llamacpp-reference (bash tests/llamacpp-reference/check.sh
// installs it); bench/compare_forward.sh runs this when MICSE_COMPARE_LLAMACPP=1.
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "..", "tests", "llamacpp-reference", "package.json"));
const { getLlama } = await import(require.resolve("node-llama-cpp"));

const [modelPath, file, rep] = process.argv.slice(2);
const repeats = Number(rep || 5);
const workloads = JSON.parse(fs.readFileSync(file, "utf8"));
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });
const model = await llama.loadModel({ modelPath });
const contexts = {};
const out = {};
for (const [name, w] of Object.entries(workloads)) {
  if (w.batches.some((b) => b.some((s) => s.length >= 512))) continue;
  if (!contexts[w.threads])
    contexts[w.threads] = await model.createEmbeddingContext({ contextSize: 512, batchSize: 512, threads: w.threads });
  const ctx = contexts[w.threads];
  const sentences = w.batches.reduce((n, b) => n + b.length, 0);
  await ctx.getEmbeddingFor(w.batches[0][0]);  // warm-up
  const times = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = process.hrtime.bigint();
    for (const b of w.batches) for (const s of b) await ctx.getEmbeddingFor(s);
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  out[name] = sentences / median(times);
  console.error(`llama.cpp ${name}: ${out[name].toFixed(2)} sentences/s`);
}
console.log(JSON.stringify(out));
