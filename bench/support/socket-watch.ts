// The console's side of alarm-storm, in its own process so that decoding 5,000 incident payloads
// is not charged to the cloud's event loop or CPU (the cloud serves many such consoles; their cost
// is theirs). Connects a socket.io client like the console does, notes when each new incident
// (occurrences 1) first arrives, prints {"ready":true} once connected, {"progress":n} every 1,000
// and {"seen":{firstEventId: epochMs}} when `expected` incidents arrived or on a line on stdin.
import { createInterface } from 'node:readline';
import { io } from 'socket.io-client';

interface Args {
  httpUrl: string;
  expected: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const socket = io(args.httpUrl, { transports: ['websocket'] });
const seen: Record<string, number> = {};
let count = 0;
let reported = false;

function report(): void {
  if (reported) return;
  reported = true;
  console.log(JSON.stringify({ seen }));
  socket.close();
}

socket.on('connect', () => console.log(JSON.stringify({ ready: true })));
socket.on('connect_error', (err: Error) => console.error(`socket-watch: ${err.message}`));
socket.on('incident', (incident: { occurrences: number; firstEventId: string }) => {
  if (incident.occurrences !== 1 || seen[incident.firstEventId] !== undefined) return;
  seen[incident.firstEventId] = Date.now();
  count += 1;
  if (count % 1000 === 0) console.log(JSON.stringify({ progress: count }));
  if (count >= args.expected) report();
});
createInterface({ input: process.stdin }).once('line', report);
