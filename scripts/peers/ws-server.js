#!/usr/bin/env node
// Echo server on the npm `ws` package (installed by scripts/peers/install.sh
// into scripts/peers/node_modules).
//
//   node scripts/peers/ws-server.js PORT [HOST]
//
// Echoes every message back with the type it came in (text or binary).
// permessage-deflate is enabled. Prints the bound port on stdout once
// listening (PORT 0 picks a free one) and exits with status 0 on SIGTERM/SIGINT.
'use strict';

const path = require('path');
let WebSocket;
try {
  WebSocket = require(path.join(__dirname, 'node_modules', 'ws'));
} catch (e) {
  console.error('ws-server.js: the ws package is missing; run scripts/peers/install.sh');
  process.exit(2);
}

const port = Number(process.argv[2]);
const host = process.argv[3] || '127.0.0.1';
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('usage: node ws-server.js PORT [HOST]');
  process.exit(2);
}

const wss = new WebSocket.WebSocketServer({
  host,
  port,
  perMessageDeflate: true,
  maxPayload: 0, // no message limit, like the other echo peers
});

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    ws.send(data, { binary: isBinary });
  });
  ws.on('error', () => {}); // protocol errors close the connection; nothing to log
});

wss.on('listening', () => {
  process.stdout.write(wss.address().port + '\n');
});

wss.on('error', (e) => {
  console.error('ws-server.js: ' + e.message);
  process.exit(1);
});

function stop() {
  for (const c of wss.clients) c.terminate();
  wss.close(() => process.exit(0));
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
