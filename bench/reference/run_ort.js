// ONNX Runtime (npm onnxruntime-node) on the side-by-side workloads: padded batches with
// attention masks, all graph optimisations on, intra-op threads as the workload says.
// Prints JSON {workload: sentences per second (median)}.
//   node bench/reference/run_ort.js MODEL.onnx WORKLOADS.json [REPEATS]
const ort = require("onnxruntime-node");
const fs = require("fs");

function pad(batch) {
  const n = Math.max(...batch.map((s) => s.length));
  const ids = new BigInt64Array(batch.length * n), mask = new BigInt64Array(batch.length * n);
  batch.forEach((s, i) => s.forEach((id, j) => { ids[i * n + j] = BigInt(id); mask[i * n + j] = 1n; }));
  return { input_ids: new ort.Tensor("int64", ids, [batch.length, n]),
           attention_mask: new ort.Tensor("int64", mask, [batch.length, n]) };
}

const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

(async () => {
  const [model, file, rep] = process.argv.slice(2);
  const repeats = Number(rep || 5);
  const workloads = JSON.parse(fs.readFileSync(file, "utf8"));
  const sessions = {};
  const out = {};
  for (const [name, w] of Object.entries(workloads)) {
    if (!sessions[w.threads])
      sessions[w.threads] = await ort.InferenceSession.create(model, {
        intraOpNumThreads: w.threads, interOpNumThreads: 1, graphOptimizationLevel: "all", executionMode: "sequential" });
    const s = sessions[w.threads];
    const feeds = w.batches.map(pad);
    const sentences = w.batches.reduce((n, b) => n + b.length, 0);
    await s.run(feeds[0]);  // warm-up
    const times = [];
    for (let r = 0; r < repeats; r++) {
      const t0 = process.hrtime.bigint();
      for (const f of feeds) await s.run(f);
      times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
    out[name] = sentences / median(times);
    console.error(`ort ${name}: ${out[name].toFixed(2)} sentences/s`);
  }
  console.log(JSON.stringify(out));
})();
