// The channel counter's own process: subscribes to Mesa's channel like a Mesa server would and counts
// envelopes, answering the bench over IPC. Out of the bench's process, so counting costs no contender
// any CPU time on its own thread (as real Mesa servers run elsewhere).
import { Redis } from 'ioredis';

const [url, channel] = process.argv.slice(2);
const client = new Redis(url);
client.on('error', () => undefined);
let count = 0;
let waiter;
client.on('messageBuffer', () => {
  count++;
  if (waiter && count >= waiter) {
    waiter = undefined;
    process.send({ type: 'count', count });
  }
});
await client.subscribe(channel);
process.send({ type: 'ready' });

process.on('message', (request) => {
  if (request.type === 'reset') count = 0;
  else if (request.type === 'count') process.send({ type: 'count', count });
  else if (request.type === 'wait') {
    if (count >= request.target) process.send({ type: 'count', count });
    else waiter = request.target;
  } else if (request.type === 'close') {
    client.disconnect();
    process.disconnect();
  }
});
