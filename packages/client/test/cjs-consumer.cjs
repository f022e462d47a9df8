// A CommonJS program using the SDK's CommonJS build, as a Node script (or a mini program's
// require) would: `node cjs-consumer.cjs BUNDLE WS_URL`. It connects, creates a room, sends a
// text and a binary message, and prints what it saw as one JSON line.
'use strict';
const WebSocket = require('ws');

async function main() {
  const [file, url] = process.argv.slice(2);
  const sdk = require(file);
  const chat = new sdk.RoomcastClient(url, { WebSocket, name: 'Cjs' });
  await chat.connect();
  const room = await chat.create();
  const seen = [];
  room.on('message', (m) => seen.push(m.text !== undefined ? m.text : `${m.binary.mime} ${m.binary.name} ${m.data.length}`));
  const text = await room.send('hi from require()');
  const file2 = await room.sendBinary(new Uint8Array([1, 2, 3, 4]), { mime: 'image/gif', name: 'ça.gif' });
  const fileUrl = chat.fileUrl(room.message(file2.seq));
  chat.close();
  const exports = Object.keys(sdk).sort();
  process.stdout.write(`${JSON.stringify({ seqs: [text.seq, file2.seq], seen, fileUrl, exports, isError: new sdk.RoomcastError('closed', 'x') instanceof Error })}\n`);
}

main().catch((err) => {
  process.stderr.write(`cjs-consumer: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
