#!/usr/bin/env node
// A stand-in for `calcinosis-ls serve`: a minimal LSP server over stdio that
// appends every message it receives (and its argv) to $FAKE_LOG as JSON lines.
'use strict';
const fs = require('fs');

const log = (o) => fs.appendFileSync(process.env.FAKE_LOG, JSON.stringify(o) + '\n');
log({ argv: process.argv.slice(2) });

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
    const len = Number(/Content-Length: (\d+)/i.exec(buf.subarray(0, end).toString())[1]);
    if (buf.length < end + 4 + len) return;
    const msg = JSON.parse(buf.subarray(end + 4, end + 4 + len).toString());
    buf = buf.subarray(end + 4 + len);
    handle(msg);
  }
});
process.stdin.on('end', () => process.exit(0));

function handle(msg) {
  log({ method: msg.method, params: msg.params, id: msg.id });
  switch (msg.method) {
    case 'initialize':
      send({
        id: msg.id,
        result: {
          capabilities: {
            textDocumentSync: 1,
            // Lists the extension's own command on purpose: the client must not
            // try to register it a second time.
            executeCommandProvider: { commands: ['calcinosis.ask', 'calcinosis.other'] },
          },
        },
      });
      break;
    case 'initialized':
      send({
        method: 'calcinosis/crestSummary',
        params: { uri: 'file:///notes/a.note', present: ['S', 'C', 'R', 'X'], possible: ['e'], negated: ['T'] },
      });
      break;
    case 'workspace/executeCommand':
      send({
        id: msg.id,
        result: process.env.FAKE_EMPTY
          ? []
          : [
              {
                id: 's1',
                section: 'Treatment',
                text: 'Sodium thiosulfate has been used for calcinosis cutis.\nSecond line.',
                citations: [1, 4],
                line: 3,
                score: 3.21,
                file: process.env.FAKE_CORPUS,
              },
              { id: 's2', section: 'Epidemiology', text: 'No file here', citations: [], line: 1, score: 0.5 },
            ],
      });
      break;
    case 'shutdown':
      send({ id: msg.id, result: null });
      break;
    case 'exit':
      process.exit(0);
      break;
    default:
      if (msg.id !== undefined && msg.method !== undefined) {
        send({ id: msg.id, result: null });
      }
  }
}
