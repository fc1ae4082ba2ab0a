// Smoke tests of the bundled extension: a mocked `vscode` module and a fake
// LSP server (test/fake-server.js) standing in for `calcinosis-ls serve`.
//   node --test test/            (tests out/extension.js)
//   EXTENSION_JS=path node --test test/
'use strict';
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const test = require('node:test');

const bundle = path.resolve(process.env.EXTENSION_JS || path.join(__dirname, '..', 'out', 'extension.js'));
const fakeServer = path.join(__dirname, 'fake-server.js');
// The fake server is spawned directly, so it must be executable whatever the checkout did.
fs.chmodSync(fakeServer, 0o755);

function run(scenario, settings, env = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calcinosis-smoke-'));
  const corpus = path.join(dir, 'statements.md');
  fs.writeFileSync(corpus, 'one\ntwo\nthree\nfour\n');
  try {
    const out = execFileSync(process.execPath, [path.join(__dirname, 'scenario.js'), bundle, scenario], {
      env: {
        ...process.env,
        FAKE_LOG: path.join(dir, 'server.jsonl'),
        FAKE_CORPUS: corpus,
        MOCK_SETTINGS: JSON.stringify(settings),
        ...env,
      },
      encoding: 'utf8',
      timeout: 60000,
    });
    return { ...JSON.parse(out), corpus };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const events = (report, kind) => report.events.filter((e) => e[0] === kind);

test('starts the server, shows the CREST summary, asks, syncs settings', () => {
  const r = run('happy', {
    'calcinosis.server.path': fakeServer,
    'calcinosis.languageIds': ['latex', ' ', 7, 'latex'],
    'calcinosis.corpusDir': '/data/corpus',
    'calcinosis.diagnostics.severity': 'warning',
    'calcinosis.diagnostics.debounceMs': 250,
  });

  assert.deepEqual(r.server[0], { argv: ['serve'] });
  const init = r.server.find((m) => m.method === 'initialize');
  assert.deepEqual(init.params.initializationOptions, {
    corpusDir: '/data/corpus',
    indexDir: null,
    diagnostics: {
      enable: true, severity: 'warning', summaryThreshold: 3, misspellings: true, debounceMs: 250, maxPerDocument: 1000,
    },
    languageIds: ['latex'],
  });

  const open = r.server.find((m) => m.method === 'textDocument/didOpen');
  assert.equal(open.params.textDocument.languageId, 'clinical-note');

  assert.equal(r.status.text, 'CREST 3/5: C R S');
  assert.match(r.status.tooltip, /Possible: E \(Esophageal dysfunction\)/);
  assert.match(r.status.tooltip, /Negated: T \(Telangiectasia\)/);
  assert.deepEqual(events(r, 'createStatusBarItem')[0].slice(1), ['calcinosis.crest', 2, 100]);

  const ask = r.server.find((m) => m.method === 'workspace/executeCommand');
  assert.deepEqual(ask.params, { command: 'calcinosis.ask', arguments: ['What treats calcinosis?', 10] });
  const [pick] = events(r, 'showQuickPick');
  assert.deepEqual(pick[2][0], {
    label: 'Sodium thiosulfate has been used for calcinosis cutis. Second line.',
    description: 'Treatment',
    detail: 'citations: 1, 4 · score 3.2',
  });
  assert.equal(pick[2][1].detail, 'no citations · score 0.50');
  assert.deepEqual(events(r, 'showTextDocument')[0].slice(1), [r.corpus, 2]);

  const changes = r.server.filter((m) => m.method === 'workspace/didChangeConfiguration');
  assert.ok(changes.length >= 2);
  const settings = changes[changes.length - 1].params.settings.calcinosis;
  assert.equal(settings.corpusDir, '/data/corpus');
  assert.deepEqual(settings.diagnostics, {
    enable: true, severity: 'warning', summaryThreshold: 3, misspellings: true, debounceMs: 250, maxPerDocument: 1000,
  });

  assert.deepEqual(events(r, 'error'), []);
  // The server's commands are registered by vscode-languageclient under their own names, next
  // to the extension's, with no collision to work around.
  assert.deepEqual(r.commandsWhileRunning.sort(), [
    'calcinosis.ask',
    'calcinosis.askKnowledgeBase',
    'calcinosis.other',
    'calcinosis.restartServer',
    'calcinosis.showOutput',
  ]);
  assert.ok(r.server.some((m) => m.method === 'shutdown'));
});

test('no answers gives an information message', () => {
  const r = run('happy', { 'calcinosis.server.path': fakeServer }, { FAKE_EMPTY: '1' });
  assert.deepEqual(events(r, 'showQuickPick'), []);
  assert.match(events(r, 'info')[0][1], /no answers found for "What treats calcinosis\?"/);
});

test('changing calcinosis.server.path restarts the server', () => {
  const r = run('restart', { 'calcinosis.server.path': fakeServer });
  assert.equal(r.server.filter((m) => m.method === 'initialize').length, 2);
  assert.deepEqual(events(r, 'error'), []);
});

test('a missing server binary gives an actionable error', () => {
  const r = run('missing', { 'calcinosis.server.path': '/nonexistent/bin/calcinosis-ls' });
  const errors = events(r, 'error');
  assert.ok(errors.length >= 1);
  for (const e of errors) {
    assert.match(e[1], /cargo install --locked --path \./);
    assert.match(e[1], /calcinosis\.server\.path/);
    assert.deepEqual(e.slice(2), ['Open Settings', 'Retry']);
  }
  assert.deepEqual(r.server, []);
});

test('a bare server name is searched on PATH', () => {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'calcinosis-bin-'));
  try {
    fs.symlinkSync(fakeServer, path.join(bin, 'calcinosis-ls'));
    const r = run('happy', {}, { PATH: `${bin}${path.delimiter}${process.env.PATH}` });
    assert.deepEqual(r.server[0], { argv: ['serve'] });
    assert.equal(r.status.text, 'CREST 3/5: C R S');
  } finally {
    fs.rmSync(bin, { recursive: true, force: true });
  }
});

/** A fake extension folder whose server/ holds the fake server, built for `target`. */
function fakeExtension(target) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calcinosis-ext-'));
  fs.mkdirSync(path.join(dir, 'server'));
  fs.copyFileSync(fakeServer, path.join(dir, 'server', 'calcinosis-ls'));
  fs.chmodSync(path.join(dir, 'server', 'calcinosis-ls'), 0o644); // restored by the extension
  fs.writeFileSync(path.join(dir, 'server', 'target'), `${target}\n`);
  return dir;
}

const here = process.platform === 'linux' ? `linux-${process.arch}` : `${process.platform}-${process.arch}`;

test('without settings the server bundled in the extension is started', () => {
  const ext = fakeExtension(here);
  try {
    const r = run('happy', {}, { MOCK_EXTENSION_PATH: ext });
    assert.deepEqual(r.started, [`[client] starting ${path.join(ext, 'server', 'calcinosis-ls')} serve (bundled with the extension)`]);
    assert.deepEqual(r.server[0], { argv: ['serve'] });
    assert.equal(r.status.text, 'CREST 3/5: C R S');
    assert.deepEqual(events(r, 'error'), []);
  } finally {
    fs.rmSync(ext, { recursive: true, force: true });
  }
});

test('calcinosis.server.path overrides the bundled server', () => {
  const ext = fakeExtension(here);
  try {
    const r = run('missing', { 'calcinosis.server.path': '/nonexistent/bin/calcinosis-ls' }, { MOCK_EXTENSION_PATH: ext });
    assert.deepEqual(r.server, []);
    assert.match(events(r, 'error')[0][1], /not found at \/nonexistent\/bin\/calcinosis-ls/);
  } finally {
    fs.rmSync(ext, { recursive: true, force: true });
  }
});

test('a bundled server built for another platform is reported, not started', () => {
  const ext = fakeExtension('win32-arm64');
  try {
    const r = run('missing', {}, { MOCK_EXTENSION_PATH: ext });
    assert.deepEqual(r.server, []);
    const errors = events(r, 'error');
    assert.ok(errors.length >= 1);
    for (const e of errors) {
      assert.match(e[1], new RegExp(`built for win32-arm64, but this VS Code runs on ${here}`));
      assert.match(e[1], new RegExp(`build\\.sh --target ${here}`));
      assert.match(e[1], /calcinosis\.server\.path/);
    }
  } finally {
    fs.rmSync(ext, { recursive: true, force: true });
  }
});
