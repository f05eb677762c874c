// The page: load a run's files, predict as the user types, draw the attention of every step.
import init, { Model } from './pkg/seq2seq_web.js';

const RUN_FILES = ['config.json', 'source_vocab.json', 'target_vocab.json', 'model.bpk'];
// Read when the run has them: the longest training source (for a warning) and a translation
// run's subword vocabulary.
const OPTIONAL_FILES = ['manifest.json', 'tokenizer.json'];
const $ = (id) => document.getElementById(id);
const state = { model: null, prediction: null, step: 0, timer: null, ready: '', layout: null, text: null, word: 0 };

// What tests and curious users can reach from the console.
window.seq2seq = {
  state,
  timings: {},
  predict: (text, beam = 1, nBest = 1) => JSON.parse(state.model.predict(text, beam, nBest)),
  predictText: (text, beam = 1) => JSON.parse(state.model.predictText(text, beam)),
};

function setStatus(text, isError = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', isError);
}

async function fetchBytes(url, optional = false) {
  const response = await fetch(url);
  if (!response.ok) {
    if (optional) return undefined;
    throw new Error(`${url}: ${response.status} ${response.statusText}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

const PROMPTS = {
  g2p: ['Word', 'type a word'],
  translate: ['Sentence', 'type a German sentence, e.g. Ein Mann fährt mit dem Fahrrad.'],
  text: ['Text', "type a line, e.g. Hello, world! It's 2026."],
};

// Running text: offered for G2P runs, when ticked.
const textMode = () => state.model?.task === 'g2p' && $('text-mode').checked;

// The input box's label and hint for the run's task, or for running text.
function prompt() {
  const [label, placeholder] = PROMPTS[textMode() ? 'text' : state.model.task] ?? ['Text', 'type a line'];
  $('word-label').textContent = label;
  $('word').placeholder = placeholder;
  document.body.dataset.mode = textMode() ? 'text' : 'single';
  const what = { Word: 'a word', Sentence: 'a sentence', Text: 'a line of text' }[label] ?? 'a line';
  state.ready = `Ready: a ${state.model.task} model. Type ${what}.`;
}

// Builds the model from a run's required files' bytes and its optional ones (by name).
function useRun(files, optional, from) {
  const model = new Model(...files, optional['manifest.json'], optional['tokenizer.json']);
  state.model?.free();
  state.model = model;
  $('source').textContent = from;
  $('beam').value = String(Math.min(Math.max(model.defaultBeam, 1), 5));
  $('text-mode-label').hidden = model.task !== 'g2p';
  prompt();
  document.body.dataset.task = model.task;
  for (const id of ['word', 'beam']) $(id).disabled = false;
  setStatus(state.ready);
  document.body.dataset.state = 'ready';
  render();
}

async function loadFromServer(base) {
  document.body.dataset.state = 'loading';
  const files = await Promise.all(RUN_FILES.map((name) => fetchBytes(base + name)));
  const optional = {};
  for (const name of OPTIONAL_FILES) optional[name] = await fetchBytes(base + name, true);
  useRun(files, optional, base);
}

// The runs the page was built with (`models/index.json`), offered in the model menu.
async function loadIndex() {
  const response = await fetch('models/index.json');
  if (!response.ok) throw new Error(`models/index.json: ${response.status} ${response.statusText}`);
  const runs = await response.json();
  $('model').replaceChildren(...runs.map((run) => element('option', `${run.name} (${run.task})`, { value: run.path })));
  $('model').disabled = runs.length < 2;
  return runs;
}

// A run directory picked by the user: only the files directly in the picked folder count, so a
// run's checkpoints (`checkpoints/step-*/model.bpk`) or the runs inside a folder of runs are
// never mistaken for its files.
async function loadFromPicker(fileList) {
  const files = [...fileList];
  const parts = (file) => (file.webkitRelativePath || file.name).split('/');
  const top = files.filter((file) => parts(file).length <= 2);
  const byName = new Map(top.map((file) => [file.name, file]));
  const missing = RUN_FILES.filter((name) => !byName.has(name));
  if (missing.length > 0) {
    const runs = [...new Set(files
      .filter((file) => parts(file).length === 3 && file.name === 'config.json')
      .map((file) => parts(file)[1]))].sort();
    if (runs.length > 0) {
      throw new Error(`not one run: the folder holds ${runs.length === 1 ? 'the run' : `${runs.length} runs`} ${runs.join(', ')}; pick one of them`);
    }
    throw new Error(`not a run directory of ours: ${missing.join(', ')} missing (a run holds ${RUN_FILES.join(', ')})`);
  }
  const bytes = async (name) => new Uint8Array(await byName.get(name).arrayBuffer());
  const required = await Promise.all(RUN_FILES.map(bytes));
  const optional = {};
  for (const name of OPTIONAL_FILES) optional[name] = byName.has(name) ? await bytes(name) : undefined;
  const first = parts(byName.get('config.json'));
  useRun(required, optional, first.length === 2 ? first[0] : 'your files');
}

function render() {
  stopPlaying();
  const text = $('word').value;
  const beam = Number($('beam').value);
  state.text = null;
  $('words').hidden = true;
  if (!state.model || text.trim() === '') {
    state.prediction = null;
    draw();
    return;
  }
  if (textMode()) return renderText(text, beam);
  const started = performance.now();
  const line = JSON.parse(state.model.predict(text, beam, beam));
  window.seq2seq.timings.lastPredictionMs = performance.now() - started;
  window.seq2seq.timings.firstPrediction ??= performance.now();
  state.prediction = line.error ? null : line;
  setStatus(line.error ?? state.ready, Boolean(line.error));
  state.step = 0;
  draw();
}

// A line of running text: its words in a table, the picked one's attention in the picture.
function renderText(text, beam) {
  const line = JSON.parse(state.model.predictText(text, beam));
  if (line.error) {
    state.prediction = null;
    setStatus(line.error, true);
    draw();
    return;
  }
  state.text = line;
  setStatus(state.ready);
  const words = line.tokens.filter((t) => t.pronunciation !== undefined);
  state.word = Math.min(state.word, Math.max(words.length - 1, 0));
  $('word-table').tBodies[0].replaceChildren(...words.map((t, i) => {
    const row = document.createElement('tr');
    row.append(element('td', t.from), element('td', t.text), element('td', t.pronunciation));
    row.addEventListener('click', () => { state.word = i; showWord(); });
    return row;
  }));
  $('words').hidden = words.length === 0;
  showWord();
}

// The picked word of the line, decoded alone for its attention (the same model, the same beam).
function showWord() {
  stopPlaying();
  const words = state.text.tokens.filter((t) => t.pronunciation !== undefined);
  [...$('word-table').tBodies[0].rows].forEach((row, i) => row.classList.toggle('selected', i === state.word));
  const word = words[state.word];
  const p = word && JSON.parse(state.model.predict(word.text, Number($('beam').value), 1));
  state.prediction = p && !p.error ? p : null;
  state.step = 0;
  draw();
  $('output').textContent = state.text.output;
  $('warnings').replaceChildren(...state.text.warnings.map((w) => element('li', w)));
  $('alternatives').hidden = true;
}

function draw() {
  const p = state.prediction;
  $('output').textContent = p ? p.output : '';
  $('output').dataset.input = p ? p.input : '';
  $('warnings').replaceChildren(...(p ? p.warnings : []).map((w) => element('li', w)));
  $('steps').hidden = !p || p.weights.length === 0;
  // `n_best` is left out of a prediction's JSON when it lists one hypothesis.
  $('alternatives').hidden = !p || (p.n_best ?? []).length < 2;
  if (!p) return;
  drawNBest(p);
  const slider = $('step');
  slider.max = String(p.weights.length - 1);
  slider.value = String(state.step);
  drawHeatmap(p);
  drawStep();
}

function element(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  node.textContent = text;
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
  return node;
}

function drawNBest(p) {
  $('nbest').tBodies[0].replaceChildren(...(p.n_best ?? []).map((h, i) => {
    const row = document.createElement('tr');
    row.append(element('td', String(i + 1)), element('td', h.output),
      element('td', h.log_prob.toFixed(3)), element('td', h.score.toFixed(3)));
    return row;
  }));
}

// Output tokens down (the final row is the step that produced the end), input across.
function rowLabels(p) {
  const labels = [...p.output_tokens];
  if (p.finished) labels.push('</s>');
  return labels.slice(0, p.weights.length);
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

const color = (w) => `hsl(215, 80%, ${Math.round(97 - 62 * w)}%)`;
const textWidth = (text) => 8.6 * [...text].length;

// Where the picture's parts go: cells as wide as the longest input token needs (pieces of a
// sentence are tilted), row labels as wide as the longest output token.
function layout(p, labels) {
  const longest = Math.max(...p.source_tokens.map((t) => [...t].length));
  const tilted = longest > 2;
  const cell = tilted ? 30 : 34;
  const left = Math.max(60, 16 + Math.max(...labels.map(textWidth)));
  const top = tilted ? 14 + 0.72 * Math.max(...p.source_tokens.map(textWidth)) : 28;
  return { cell, left, top, tilted };
}

function drawHeatmap(p) {
  const labels = rowLabels(p);
  const { cell, left, top, tilted } = state.layout = layout(p, labels);
  const map = $('heatmap');
  map.setAttribute('width', left + cell * p.source_tokens.length + 40);
  map.setAttribute('height', top + cell * labels.length + 4);
  const children = p.source_tokens.map((t, j) => {
    const x = left + cell * j + cell / 2;
    return tilted
      ? svg('text', { x, y: top - 6, transform: `rotate(-45 ${x} ${top - 6})`, class: 'column' }, t)
      : svg('text', { x, y: top - 8, 'text-anchor': 'middle', class: 'column' }, t);
  });
  p.weights.forEach((weights, i) => {
    const row = svg('g', { class: i < p.output_tokens.length ? 'row' : 'row end', 'data-step': i });
    row.append(svg('text', { x: left - 8, y: top + cell * i + cell / 2 + 5, 'text-anchor': 'end' }, labels[i]));
    weights.forEach((w, j) => {
      const rect = svg('rect', { class: 'cell', x: left + cell * j, y: top + cell * i, width: cell - 2, height: cell - 2, fill: color(w) });
      rect.append(svg('title', {}, `${labels[i]} ← ${p.source_tokens[j]}: ${w.toFixed(3)}`));
      row.append(rect);
    });
    row.addEventListener('click', () => { state.step = i; $('step').value = String(i); drawStep(); });
    children.push(row);
  });
  children.push(svg('rect', { id: 'current', class: 'current', x: left - 1, width: cell * p.source_tokens.length, height: cell }));
  map.replaceChildren(...children);
}

// The colour scale: what a cell's colour says its weight is.
function drawScale() {
  const steps = 10, width = 22, x0 = 30;
  const children = [svg('text', { x: 0, y: 15 }, 'weight')];
  for (let k = 0; k <= steps; k++) {
    children.push(svg('rect', { x: x0 + 12 + k * width, y: 2, width, height: 16, fill: color(k / steps) }));
  }
  for (const w of [0, 0.5, 1]) {
    children.push(svg('text', { x: x0 + 12 + w * steps * width + width / 2, y: 31, 'text-anchor': 'middle' }, String(w)));
  }
  $('scale').replaceChildren(...children);
}

// The current step: its row outlined, the others faded, the input's tokens lit by its weights.
function drawStep() {
  const p = state.prediction;
  if (!p) return;
  const i = state.step;
  const { cell, top } = state.layout;
  $('current').setAttribute('y', top + cell * i - 1);
  for (const row of $('heatmap').querySelectorAll('g.row')) {
    row.classList.toggle('faded', Number(row.dataset.step) !== i);
  }
  const weights = p.weights[i];
  $('focus').replaceChildren(...p.source_tokens.map((t, j) => {
    const span = element('span', t, { title: weights[j].toFixed(3) });
    span.style.background = color(weights[j]);
    return span;
  }));
  const emitted = rowLabels(p)[i];
  const peak = weights.indexOf(Math.max(...weights));
  $('step-label').textContent = `step ${i + 1} of ${p.weights.length}: emits ${emitted}, looks most at “${p.source_tokens[peak]}” (${weights[peak].toFixed(2)})`;
}

function stopPlaying() {
  clearInterval(state.timer);
  state.timer = null;
  $('play').textContent = 'Play';
}

function play() {
  if (state.timer) return stopPlaying();
  const p = state.prediction;
  if (!p) return;
  if (state.step >= p.weights.length - 1) state.step = -1;
  $('play').textContent = 'Pause';
  const next = () => {
    if (state.step >= p.weights.length - 1) return stopPlaying();
    state.step += 1;
    $('step').value = String(state.step);
    drawStep();
  };
  next();
  state.timer = setInterval(next, 700);
}

$('word').addEventListener('input', render);
$('beam').addEventListener('change', render);
$('text-mode').addEventListener('change', () => { state.word = 0; prompt(); setStatus(state.ready); render(); });
$('step').addEventListener('input', () => { stopPlaying(); state.step = Number($('step').value); drawStep(); });
$('play').addEventListener('click', play);
$('files').addEventListener('change', async (event) => {
  try {
    setStatus('Loading the chosen run…');
    await loadFromPicker(event.target.files);
  } catch (e) {
    setStatus(`Cannot load the chosen files: ${e.message ?? e}`, true);
  }
});

$('model').addEventListener('change', async () => {
  try {
    setStatus('Loading the model…');
    await loadFromServer($('model').value);
  } catch (e) {
    setStatus(`Cannot load the model: ${e.message ?? e}`, true);
  }
});

drawScale();
try {
  await init();
  const run = new URLSearchParams(location.search).get('run');
  const base = run ?? (await loadIndex())[0]?.path;
  if (!base) throw new Error('models/index.json lists no run');
  await loadFromServer(base.endsWith('/') ? base : base + '/');
  window.seq2seq.timings.ready = performance.now();
} catch (e) {
  setStatus(`Cannot load the model: ${e.message ?? e}`, true);
  document.body.dataset.state = 'failed';
}
