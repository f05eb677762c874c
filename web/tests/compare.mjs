// What "the same prediction" means between the wasm module and the native `predict --json`.
import assert from 'node:assert/strict';

const TOLERANCE = 1e-3;

function close(a, b, what) {
  assert.ok(Math.abs(a - b) <= TOLERANCE, `${what}: ${a} vs ${b}`);
}

// `wasm` and `native` are parsed JSON lines of one input.
export function assertSamePrediction(wasm, native, label) {
  if ('error' in native) {
    assert.ok('error' in wasm, `${label}: native has no prediction (${native.error}), wasm has ${JSON.stringify(wasm.output)}`);
    assert.ok(native.error.endsWith(wasm.error), `${label}: native says ${native.error}, wasm ${wasm.error}`);
    return;
  }
  for (const field of ['input', 'source_tokens', 'unknown', 'warnings', 'output_tokens', 'output', 'finished']) {
    assert.deepEqual(wasm[field], native[field], `${label}: ${field}`);
  }
  close(wasm.log_prob, native.log_prob, `${label}: log_prob`);
  assert.equal(wasm.weights.length, native.weights.length, `${label}: attention rows`);
  wasm.weights.forEach((row, i) => row.forEach((w, j) => close(w, native.weights[i][j], `${label}: weight [${i}][${j}]`)));
  assert.deepEqual((wasm.n_best ?? []).map((h) => h.output), (native.n_best ?? []).map((h) => h.output), `${label}: n-best`);
}
