#!/usr/bin/env node
// Autobahn fuzzingserver driver loop on the npm `ws` client (installed by
// scripts/peers/install.sh into scripts/peers/node_modules): a user example
// and a peer for wsconform's client mode.
//
//   node scripts/peers/ws-client.js ws://HOST:PORT [--agent NAME] [--cases N]
//
// GET /getCaseCount, then /runCase?case=I&agent=NAME for I = 1..N (echo every
// message with its type until the connection closes), then
// /updateReports?agent=NAME. permessage-deflate is offered (ws's default);
// masking, pongs, the close handshake and failing on protocol errors are the
// library's job. maxPayload is lifted so the cases judge the protocol.
//
// Exit status: 0 when the loop ran to its end (per-case failures are
// expected), 1 when the case count could not be fetched, 2 on bad usage.
'use strict';

const path = require('path');
let WebSocket;
try {
  WebSocket = require(path.join(__dirname, 'node_modules', 'ws'));
} catch (e) {
  console.error('ws-client.js: the ws package is missing; run scripts/peers/install.sh');
  process.exit(2);
}

const args = process.argv.slice(2);
let base = null;
let agent = 'ws/' + require(path.join(__dirname, 'node_modules', 'ws', 'package.json')).version;
let cases = 0;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--agent' && i + 1 < args.length) agent = args[++i];
  else if (args[i] === '--cases' && i + 1 < args.length) cases = Number(args[++i]);
  else if (!base && /^wss?:\/\//.test(args[i])) base = args[i].replace(/\/+$/, '');
  else {
    console.error('usage: node ws-client.js ws://HOST:PORT [--agent NAME] [--cases N]');
    process.exit(2);
  }
}
if (!base || !Number.isInteger(cases) || cases < 0) {
  console.error('usage: node ws-client.js ws://HOST:PORT [--agent NAME] [--cases N]');
  process.exit(2);
}

// One connection; resolves when it has closed (or failed to open).
function connect(p, onMessage) {
  return new Promise((resolve) => {
    let ws;
    try {
      ws = new WebSocket(base + p, { maxPayload: 0, handshakeTimeout: 10000 });
    } catch (e) {
      resolve(e);
      return;
    }
    ws.on('message', (data, isBinary) => onMessage && onMessage(ws, data, isBinary));
    ws.on('error', () => {}); // a failed case closes the connection; 'close' follows
    ws.on('close', (code) => resolve(code));
  });
}

(async () => {
  if (!cases) {
    let count = NaN;
    await connect('/getCaseCount', (ws, data) => {
      count = parseInt(data.toString(), 10);
    });
    if (!(count >= 0)) {
      console.error('ws-client.js: no case count from ' + base);
      process.exit(1);
    }
    cases = count;
  }
  console.error(`ws-client.js: ${cases} cases as ${agent}`);
  const a = encodeURIComponent(agent);
  for (let i = 1; i <= cases; i++) {
    await connect(`/runCase?case=${i}&agent=${a}`, (ws, data, isBinary) => {
      ws.send(data, { binary: isBinary }, () => {});
    });
  }
  await connect(`/updateReports?agent=${a}`);
  process.exit(0);
})();
