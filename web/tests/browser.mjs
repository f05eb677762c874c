// The page in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core): served
// by `seq2seq web --no-build`, a word typed into the box, the pronunciation checked against the
// native `predict`, the heatmap's rows counted, the step slider, beam search's n-best list, the
// empty box, a picked folder that is not a run, a broken run and a good one.
//
//   SEQ2SEQ=target/debug/seq2seq node web/tests/browser.mjs [DIST] [RUN] [--timing WORDS_FILE]
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
const timingAt = args.indexOf('--timing');
const timingFile = timingAt >= 0 ? args.splice(timingAt, 2)[1] : undefined;
const dist = path.resolve(args[0] ?? 'dist');
const run = path.resolve(args[1] ?? 'models/g2p-cmudict');
const native = process.env.SEQ2SEQ ?? 'target/debug/seq2seq';

function nativePredict(word, beam) {
  const out = spawnSync(native, ['predict', '--run', run, '--json', '--beam', String(beam), word], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  return JSON.parse(out.stdout);
}

// Our server, on a free port; resolves to its address.
function startServer() {
  const server = spawn(native, ['web', '--no-build', '--out', dist, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let seen = '';
    server.stdout.on('data', (chunk) => {
      seen += chunk;
      const match = seen.match(/http:\/\/127\.0\.0\.1:\d+\//);
      if (match) resolve({ server, url: match[0] });
    });
    server.on('exit', (code) => reject(new Error(`seq2seq web exited with ${code}: ${seen}`)));
  });
}

const { server, url } = await startServer();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('requestfailed', (r) => problems.push(`${r.url()}: ${r.failure()?.errorText}`));

  const started = Date.now();
  await page.goto(url);
  await page.waitForSelector('body[data-state="ready"]', { timeout: 120_000 });
  const loadToReadyMs = Date.now() - started;

  // Typing a word: the pronunciation appears, one heatmap row per output step.
  const expected = nativePredict('hello', 1);
  await page.selectOption('#beam', '1');
  await page.locator('#word').pressSequentially('hello');
  await page.waitForFunction((want) => document.querySelector('#output').textContent === want, expected.output);
  const firstPredictionMs = Date.now() - started;
  const phonemes = expected.output_tokens.length;
  assert.equal(await page.locator('#heatmap g.row:not(.end)').count(), phonemes, 'one heatmap row per output phoneme');
  assert.equal(await page.locator('#heatmap g.row.end').count(), expected.finished ? 1 : 0, 'the end-of-sequence row');
  assert.equal(await page.locator('#heatmap g.row').first().locator('rect.cell').count(), 5, 'one cell per letter');
  assert.equal(await page.locator('#focus span').count(), 5, 'the letters lit by the current step');

  // The step slider walks through decoding: the third step is outlined, the others faded.
  await page.locator('#step').fill('2');
  assert.match(await page.locator('#step-label').textContent(), new RegExp(`^step 3 of ${expected.weights.length}: emits ${expected.output_tokens[2]}`));
  assert.equal(await page.locator('#heatmap g.row.faded').count(), expected.weights.length - 1);

  // Beam 5: the native beam output, and the n-best list with scores.
  const beam = nativePredict('hello', 5);
  await page.selectOption('#beam', '5');
  await page.waitForFunction((want) => document.querySelector('#output').textContent === want, beam.output);
  assert.ok(await page.locator('#nbest tbody tr').count() >= 2, 'n-best rows at beam 5');
  assert.equal(await page.locator('#alternatives').isVisible(), true);

  // An empty box: no output, no picture.
  await page.locator('#word').fill('');
  assert.equal(await page.locator('#output').textContent(), '');
  assert.equal(await page.locator('#steps').isVisible(), false);

  // A picked folder that is not a run: a clear message, and the loaded model stays usable.
  const notARun = mkdtempSync(path.join(tmpdir(), 'not-a-run-'));
  writeFileSync(path.join(notARun, 'notes.txt'), 'hi');
  await page.locator('#files').setInputFiles(notARun);
  await page.waitForFunction(() => document.querySelector('#status').classList.contains('error'));
  assert.match(await page.locator('#status').textContent(), /not a run directory of ours: config\.json, source_vocab\.json/);
  await page.locator('#word').fill('world');
  await page.waitForFunction((want) => document.querySelector('#output').textContent === want, nativePredict('world', 5).output);

  // A picked run whose config.json is broken: the library's message, naming the file.
  const broken = mkdtempSync(path.join(tmpdir(), 'broken-run-'));
  for (const name of ['source_vocab.json', 'target_vocab.json', 'model.bpk']) {
    writeFileSync(path.join(broken, name), readFileSync(path.join(run, name)));
  }
  writeFileSync(path.join(broken, 'config.json'), '{"version": 1');
  await page.locator('#files').setInputFiles(broken);
  await page.waitForFunction(() => /config\.json: not valid JSON/.test(document.querySelector('#status').textContent));

  // A picked run directory loads in its place.
  await page.locator('#files').setInputFiles(run);
  await page.waitForFunction((name) => document.querySelector('#source').textContent === name, path.basename(run));
  assert.doesNotMatch(await page.locator('#status').textContent(), /Cannot/);

  assert.deepEqual(problems, [], 'no page errors or failed requests');
  const report = { load_to_ready_ms: loadToReadyMs, load_to_first_prediction_ms: firstPredictionMs };
  if (timingFile) {
    const words = readFileSync(timingFile, 'utf8').split('\n').map((l) => l.split(/\s/)[0]).filter(Boolean);
    Object.assign(report, await page.evaluate((words) => {
      const time = (beam) => {
        const t = performance.now();
        for (const w of words) window.seq2seq.predict(w, beam, 1);
        return (performance.now() - t) / words.length;
      };
      time(1); // warm-up
      return { words: words.length, ms_per_word_greedy: time(1), ms_per_word_beam5: time(5) };
    }, words));
  }
  console.log(JSON.stringify(report));
  console.log('ok: the page predicts as native, draws one row per output step, steps, n-best, empty box, picked folders');
} finally {
  await browser.close();
  server.kill();
}
