// The page in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core): served
// by `seq2seq web --no-build`, a word typed into the box, the pronunciation checked against the
// native `predict`, the heatmap's rows counted, the step slider, beam search's n-best list, a
// line of running text, the empty box, a picked folder that is not a run, a broken run, a folder of runs, a run with
// checkpoints and a good one; then, given a translation run, the model menu switched to it and a
// sentence translated as native `predict` does, its pieces across the heatmap; then, given a
// stressed G2P run, a word pronounced with its stress digits as native `predict` does.
//
//   SEQ2SEQ=target/debug/seq2seq node web/tests/browser.mjs [DIST] [RUN] [TRANSLATION_RUN]
//       [STRESS_RUN] [--timing WORDS_FILE] [--timing-sentences SENTENCES_FILE]
//
// With --timing, prints the G2P model's milliseconds per word (greedy, beam 5) over the file's
// first words; with --timing-sentences, the translation model's per sentence, and the time it
// took to switch to it.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
const timingAt = args.indexOf('--timing');
const timingFile = timingAt >= 0 ? args.splice(timingAt, 2)[1] : undefined;
const sentencesAt = args.indexOf('--timing-sentences');
const sentencesFile = sentencesAt >= 0 ? args.splice(sentencesAt, 2)[1] : undefined;
const dist = path.resolve(args[0] ?? 'dist');
const run = path.resolve(args[1] ?? 'models/g2p-cmudict');
const translationRun = args[2] && path.resolve(args[2]);
const stressRun = args[3] && path.resolve(args[3]);
const native = process.env.SEQ2SEQ ?? 'target/debug/seq2seq';

// Native `predict --running-text` of a line: its JSON and its text line.
function nativeText(line, beam, dir = run) {
  const predict = (extra) => {
    const out = spawnSync(native, ['predict', '--run', dir, '--running-text', '--beam', String(beam), ...extra, line], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    return out.stdout.trim();
  };
  return { json: JSON.parse(predict(['--json'])), text: predict([]) };
}

function nativePredict(word, beam, dir = run) {
  const out = spawnSync(native, ['predict', '--run', dir, '--json', '--beam', String(beam), word], { encoding: 'utf8' });
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

// Milliseconds per input of the page's loaded model, greedy and at beam 5, one input at a
// time as the page predicts while the user types (after a greedy warm-up pass).
function msPerInput(page, inputs) {
  return page.evaluate((inputs) => {
    const time = (beam) => {
      const t = performance.now();
      for (const input of inputs) window.seq2seq.predict(input, beam, 1);
      return (performance.now() - t) / inputs.length;
    };
    time(1);
    return { greedy: time(1), beam5: time(5) };
  }, inputs);
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
  const report = { load_to_ready_ms: loadToReadyMs, load_to_first_prediction_ms: firstPredictionMs };
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

  // Running text: the line pronounced as native `predict --running-text` does, its words in a
  // table, and the picked word's attention in the picture.
  const line = "Hello, world! It's 2026.";
  const spoken = nativeText(line, 1);
  const words = spoken.json.tokens.filter((t) => t.pronunciation !== undefined);
  await page.selectOption('#beam', '1');
  await page.locator('#text-mode').check();
  assert.equal(await page.locator('#word-label').textContent(), 'Text');
  await page.locator('#word').fill(line);
  await page.waitForFunction((want) => document.querySelector('#output').textContent === want, spoken.text);
  assert.equal(await page.locator('#word-table tbody tr').count(), words.length, 'one table row per word');
  assert.equal(await page.locator('#word-table tbody tr').nth(5).locator('td').first().textContent(), '2026');
  await page.locator('#word-table tbody tr').nth(2).click();
  const third = nativePredict(words[2].text, 1);
  assert.equal(await page.locator('#heatmap g.row:not(.end)').count(), third.output_tokens.length, "the picked word's rows");
  assert.equal(await page.locator('#output').textContent(), spoken.text, 'the line stays the output');
  await page.locator('#text-mode').uncheck();
  assert.equal(await page.locator('#word-label').textContent(), 'Word');
  assert.equal(await page.locator('#words').isVisible(), false);

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

  // A folder of runs is not one run: refused, naming them.
  const several = mkdtempSync(path.join(tmpdir(), 'runs-'));
  for (const name of ['a', 'b']) {
    mkdirSync(path.join(several, name));
    for (const file of ['config.json', 'source_vocab.json', 'target_vocab.json', 'model.bpk']) {
      writeFileSync(path.join(several, name, file), readFileSync(path.join(run, file)));
    }
  }
  await page.locator('#files').setInputFiles(several);
  await page.waitForFunction(() => /not one run: the folder holds 2 runs a, b/.test(document.querySelector('#status').textContent));

  // A picked run directory loads in its place; a checkpoint's model.bpk inside it is not read
  // (it is garbage here: reading it would fail).
  const withCheckpoints = mkdtempSync(path.join(tmpdir(), 'run-'));
  for (const file of ['config.json', 'source_vocab.json', 'target_vocab.json', 'model.bpk', 'manifest.json']) {
    writeFileSync(path.join(withCheckpoints, file), readFileSync(path.join(run, file)));
  }
  mkdirSync(path.join(withCheckpoints, 'checkpoints', 'step-00000001'), { recursive: true });
  writeFileSync(path.join(withCheckpoints, 'checkpoints', 'step-00000001', 'model.bpk'), 'not a model');
  await page.locator('#files').setInputFiles(withCheckpoints);
  await page.waitForFunction((name) => document.querySelector('#source').textContent === name, path.basename(withCheckpoints));
  assert.doesNotMatch(await page.locator('#status').textContent(), /Cannot/);
  assert.equal(await page.locator('#status').evaluate((e) => e.classList.contains('error')), false, 'a success clears the error');
  await page.locator('#files').setInputFiles(run);
  await page.waitForFunction((name) => document.querySelector('#source').textContent === name, path.basename(run));

  // A refusal's red message is cleared by the next prediction.
  await page.locator('#files').setInputFiles(several);
  await page.waitForFunction(() => document.querySelector('#status').classList.contains('error'));
  await page.locator('#word').fill('word');
  await page.waitForFunction((want) => document.querySelector('#output').textContent === want, nativePredict('word', 5).output);
  assert.equal(await page.locator('#status').evaluate((e) => e.classList.contains('error')), false, 'the next prediction clears the error');
  assert.equal(await page.locator('#scale rect').count(), 11, 'the colour scale');
  assert.equal(await page.locator('#play').textContent(), 'Play');

  if (timingFile) {
    const words = readFileSync(timingFile, 'utf8').split('\n').map((l) => l.split(/\s/)[0]).filter(Boolean);
    const ms = await msPerInput(page, words);
    Object.assign(report, { words: words.length, ms_per_word_greedy: ms.greedy, ms_per_word_beam5: ms.beam5 });
  }
  if (translationRun) {
    // The model menu offers the translation run; a sentence's pieces go across the heatmap.
    const name = path.basename(translationRun);
    const switched = Date.now();
    await page.selectOption('#model', `models/${name}/`);
    await page.waitForFunction((name) => document.querySelector('#source').textContent === `models/${name}/`
      && document.body.dataset.state === 'ready', name);
    report.switch_to_translation_ms = Date.now() - switched;
    assert.equal(await page.locator('#word-label').textContent(), 'Sentence');
    const sentence = 'Ein Mann fährt mit dem Fahrrad.';
    const want = nativePredict(sentence, 1, translationRun);
    await page.selectOption('#beam', '1');
    await page.locator('#word').fill(sentence);
    await page.waitForFunction((want) => document.querySelector('#output').textContent === want, want.output);
    assert.equal(await page.locator('#heatmap g.row').first().locator('rect.cell').count(), want.source_tokens.length, 'one column per piece');
    assert.equal(await page.locator('#heatmap g.row:not(.end)').count(), want.output_tokens.length, 'one row per output piece');
    assert.equal(await page.locator('#heatmap text.column').first().textContent(), want.source_tokens[0]);
    await page.locator('#step').fill('1');
    assert.match(await page.locator('#step-label').textContent(), new RegExp(`^step 2 of ${want.weights.length}`));
    const beam = nativePredict(sentence, 5, translationRun);
    await page.selectOption('#beam', '5');
    await page.waitForFunction((want) => document.querySelector('#output').textContent === want, beam.output);
    if (sentencesFile) {
      const sentences = readFileSync(sentencesFile, 'utf8').split('\n').filter(Boolean);
      const ms = await msPerInput(page, sentences);
      Object.assign(report, { sentences: sentences.length, ms_per_sentence_greedy: ms.greedy, ms_per_sentence_beam5: ms.beam5 });
    }
  }

  if (stressRun) {
    // The stressed model writes a digit on every vowel.
    const name = path.basename(stressRun);
    await page.selectOption('#model', `models/${name}/`);
    await page.waitForFunction((name) => document.querySelector('#source').textContent === `models/${name}/`
      && document.body.dataset.state === 'ready', name);
    assert.equal(await page.locator('#word-label').textContent(), 'Word');
    const want = nativePredict('attention', 5, stressRun);
    assert.match(want.output, /[012]/, 'the native stressed output has digits');
    await page.selectOption('#beam', '5');
    await page.locator('#word').fill('attention');
    await page.waitForFunction((want) => document.querySelector('#output').textContent === want, want.output);
  }

  assert.deepEqual(problems, [], 'no page errors or failed requests');
  console.log(JSON.stringify(report));
  console.log(`ok: the page predicts as native, draws one row per output step, steps, n-best, empty box, picked folders${translationRun ? ', translation' : ''}${stressRun ? ', stress' : ''}`);
} finally {
  await browser.close();
  server.kill();
}
