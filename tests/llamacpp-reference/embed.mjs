// llama.cpp's own embedding path (through node-llama-cpp's prebuilt CPU binary) on a GGUF file:
// one line of token ids in, one embedding out, with the pooling the file asks for.
//   node embed.mjs MODEL.gguf IDS.jsonl > OUT.json
// The check that micse's files load in llama.cpp and give the same vectors: bash check.sh.
import { getLlama } from "node-llama-cpp";
import fs from "node:fs";

const [modelPath, idsPath] = process.argv.slice(2);
const sequences = fs.readFileSync(idsPath, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });
const model = await llama.loadModel({ modelPath });
const longest = Math.max(...sequences.map((s) => s.length));
const context = await model.createEmbeddingContext({ contextSize: Math.max(64, longest + 1), batchSize: Math.max(64, longest + 1), threads: 1 });
const out = [];
for (const ids of sequences) out.push(Array.from((await context.getEmbeddingFor(ids)).vector));
process.stdout.write(JSON.stringify(out));
await context.dispose();
await model.dispose();
