// Runs one scenario against the bundled extension (argv[2]: path to
// out/extension.js, argv[3]: scenario name) and prints a JSON report.
'use strict';
const fs = require('fs');
const mock = require('./vscode-mock');

const [, , bundle, scenario] = process.argv;
const serverLog = () =>
  fs.existsSync(process.env.FAKE_LOG)
    ? fs.readFileSync(process.env.FAKE_LOG, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))
    : [];

async function waitFor(what, predicate, ms = 15000) {
  const until = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
const received = (method, n = 1) => () => serverLog().filter((m) => m.method === method).length >= n;

(async () => {
  const ext = require(bundle);
  ext.activate({ subscriptions: [], extensionPath: process.env.MOCK_EXTENSION_PATH || '/nonexistent/extension' });
  const report = {};

  if (scenario === 'missing') {
    await waitFor('an error message', () => mock.events.some((e) => e[0] === 'error'));
    report.commandsWhileRunning = [...mock.commands.keys()];
    await mock.commands.get('calcinosis.askKnowledgeBase')();
  } else {
    await waitFor('initialized', received('initialized'));
    await waitFor('the CREST status', () => mock.statusItem.visible === true);
    report.commandsWhileRunning = [...mock.commands.keys()];
    report.status = { text: mock.statusItem.text, tooltip: mock.statusItem.tooltip, visible: mock.statusItem.visible };
    await waitFor('didOpen', received('textDocument/didOpen'));
    await mock.commands.get('calcinosis.askKnowledgeBase')();
    if (scenario === 'restart') {
      mock.configurationChanged.fire({ affectsConfiguration: (s) => s === 'calcinosis' || s === 'calcinosis.server.path' });
      await waitFor('a second initialize', received('initialized', 2));
    } else {
      mock.configurationChanged.fire({
        affectsConfiguration: (s) => ['calcinosis', 'calcinosis.diagnostics', 'calcinosis.diagnostics.enable'].includes(s),
      });
      await waitFor('didChangeConfiguration', received('workspace/didChangeConfiguration', 2));
    }
  }

  await ext.deactivate();
  if (scenario !== 'missing') await waitFor('exit', received('exit', scenario === 'restart' ? 2 : 1));
  report.events = mock.events.filter((e) => e[0] !== 'output');
  report.started = mock.events.filter((e) => e[0] === 'output' && /^\[client\] starting /.test(e[2])).map((e) => e[2]);
  report.commands = [...mock.commands.keys()];
  report.server = serverLog();
  process.stdout.write(JSON.stringify(report));
  process.exit(0);
})().catch((err) => {
  console.error(err);
  console.error(JSON.stringify(mock.events));
  process.exit(1);
});
