'use strict';
// Benchmark peer for wschatd: the plainest broadcast server one writes with
// Node's `ws` package.  Every text message a client sends is sent, unchanged,
// to every connected client, the sender included.  No JSON, no names.
//
//   node server.js PORT [HOST]
//
// Prints "listening on HOST:PORT" once it accepts connections; exits on
// SIGTERM or SIGINT.

const { WebSocketServer, WebSocket } = require('ws');

const port = Number(process.argv[2] || 8081);
const host = process.argv[3] || '127.0.0.1';

const wss = new WebSocketServer({ host, port, perMessageDeflate: false });

wss.on('connection', (sock) => {
  sock.on('message', (data, isBinary) => {
    for (const peer of wss.clients) {
      if (peer.readyState === WebSocket.OPEN)
        peer.send(data, { binary: isBinary });
    }
  });
  sock.on('error', () => {});
});

wss.on('listening', () => {
  const a = wss.address();
  console.log(`listening on ${a.address}:${a.port}`);
});

function stop() {
  for (const c of wss.clients)
    c.terminate();
  wss.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
