#!/usr/bin/env node
// A language server that knows nothing: it declares the capabilities calcinosis-ls declares, then
// answers null to every request and sends no notification. The end-to-end test must fail
// against it (`bash run.sh --server test/e2e/null-server.js`): a check that passes here does not
// test the server.
'use strict';

const send = (msg) => {
  const body = JSON.stringify({ jsonrpc: '2.0', ...msg });
  process.stdout.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
};

let buf = Buffer.alloc(0);
process.stdin.on('data', (chunk) => {
  buf = Buffer.concat([buf, chunk]);
  for (;;) {
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const m = /Content-Length: (\d+)/i.exec(buf.subarray(0, end).toString());
    if (!m) process.exit(1);
    const len = Number(m[1]);
    if (buf.length < end + 4 + len) return;
    const msg = JSON.parse(buf.subarray(end + 4, end + 4 + len).toString());
    buf = buf.subarray(end + 4 + len);
    if (msg.method === 'exit') process.exit(0);
    if (msg.id === undefined || msg.method === undefined) continue;
    const result =
      msg.method === 'initialize'
        ? {
            capabilities: {
              textDocumentSync: 2,
              hoverProvider: true,
              completionProvider: { triggerCharacters: [] },
              codeActionProvider: true,
              executeCommandProvider: { commands: ['calcinosis.ask', 'calcinosis.showStatements'] },
            },
          }
        : null;
    send({ id: msg.id, result });
  }
});
process.stdin.on('end', () => process.exit(0));
