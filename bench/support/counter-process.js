// The channel counter's own process: subscribes to Mesa's channel like a Mesa server would and counts
// envelopes, answering the bench over IPC. It runs outside the bench's process and reads the raw RESP
// stream (counting frame headers, no parsing), so that on a 2-core machine counting takes as little
// CPU as possible from Redis and the contenders, as if the Mesa servers ran elsewhere.
import { connect } from 'node:net';

const [url, channel] = process.argv.slice(2);
const { hostname, port } = new URL(url);
// Each pub/sub delivery starts with this header; JSON text never holds a raw CR or LF, so it cannot
// appear inside a payload.
const HEADER = Buffer.from('*3\r\n$7\r\nmessage\r\n');
let count = 0;
let generation = 0;
let waiter;
let carry = Buffer.alloc(0);
/** This process's CPU so far (µs), sent with every answer: the bench measures the counting's cost per round. */
const cpuUs = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};
const socket = connect(Number(port || 6379), hostname || '127.0.0.1');
socket.on('error', () => undefined);
socket.on('data', (chunk) => {
  const data = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
  let at = data.indexOf(HEADER);
  let end = 0;
  while (at !== -1) {
    count++;
    end = at + HEADER.length;
    at = data.indexOf(HEADER, end);
  }
  carry = data.subarray(Math.max(end, data.length - HEADER.length + 1));
  if (waiter !== undefined && count >= waiter) {
    waiter = undefined;
    process.send({ type: 'count', count, generation, cpuUs: cpuUs() });
  }
});
socket.once('connect', () => socket.write(`SUBSCRIBE ${channel}\r\n`));
socket.once('data', () => process.send({ type: 'ready' }));

process.on('message', (request) => {
  if (request.type === 'reset') {
    count = 0;
    waiter = undefined;
    generation = request.generation;
    process.send({ type: 'reset', generation, cpuUs: cpuUs() });
  } else if (request.type === 'count') process.send({ type: 'count', count, generation, cpuUs: cpuUs() });
  else if (request.type === 'wait') {
    if (count >= request.target) process.send({ type: 'count', count, generation, cpuUs: cpuUs() });
    else waiter = request.target;
  } else if (request.type === 'close') {
    socket.destroy();
    process.disconnect();
  }
});
