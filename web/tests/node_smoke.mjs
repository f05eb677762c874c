// The wasm module under Node.js (`cargo xtask web --node` builds DIST/node/) against the native
// `seq2seq predict --json` on a word list (a G2P run) or a few German sentences (a translation
// run, with its subword vocabulary): the same outputs, weights and n-best lists, greedy and at
// beam 5, unknown characters, empty lines and a word over the input limit included.
//
//   SEQ2SEQ=target/debug/seq2seq node web/tests/node_smoke.mjs [DIST] [RUN]
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { assertSamePrediction } from './compare.mjs';

const dist = path.resolve(process.argv[2] ?? 'dist');
const run = path.resolve(process.argv[3] ?? 'models/g2p-cmudict');
const native = process.env.SEQ2SEQ ?? 'target/debug/seq2seq';
const { Model } = createRequire(import.meta.url)(path.join(dist, 'node/seq2seq_web.js'));
const read = (name) => new Uint8Array(readFileSync(path.join(run, name)));
const optional = (name) => existsSync(path.join(run, name)) ? read(name) : undefined;
const model = new Model(read('config.json'), read('source_vocab.json'), read('target_vocab.json'),
  read('model.bpk'), optional('manifest.json'), optional('tokenizer.json'));
const inputsFile = new URL(model.task === 'translate' ? './sentences.txt' : './words.txt', import.meta.url);
const words = readFileSync(inputsFile, 'utf8').replace(/\n$/, '').split('\n');

for (const [beam, nBest] of [[1, 1], [5, 5]]) {
  const result = spawnSync(native, ['predict', '--run', run, '--json', '--beam', String(beam), '--nbest', String(nBest)],
    { input: words.join('\n') + '\n', encoding: 'utf8' });
  if (result.error) throw result.error;
  const lines = result.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
  if (lines.length !== words.length) {
    throw new Error(`native predict printed ${lines.length} lines for ${words.length} words:\n${result.stderr}`);
  }
  words.forEach((word, i) => {
    const wasm = JSON.parse(model.predict(word, beam, nBest));
    assertSamePrediction(wasm, lines[i], `beam ${beam}, line ${i + 1} ${JSON.stringify(word)}`);
  });
  console.log(`ok: ${words.length} ${model.task === 'translate' ? 'sentences' : 'words'} at beam ${beam} (n-best ${nBest}) equal the native outputs`);
}

// A file that is not one of ours is an error naming it, not a crash.
try {
  new Model(new TextEncoder().encode('{"version": 1'), read('source_vocab.json'), read('target_vocab.json'), read('model.bpk'));
  throw new Error('a broken config.json was accepted');
} catch (e) {
  if (!String(e.message).startsWith('config.json: not valid JSON')) throw e;
  console.log(`ok: a broken config.json is refused: ${e.message}`);
}
