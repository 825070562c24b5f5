// The trivial backend of the benchmark: answers POST /predict with a fixed prediction, so the proxy's own
// cost is all that differs between rows. Prints the model server's listening line so the same launcher works.
// argv: [service ms]: when given, requests are answered one at a time, each after that many ms, like a replica
// whose accelerator runs one batch at a time (a stand-in for a model far slower than the demo model).
import http from 'node:http';

const serviceMs = Number(process.argv[2] ?? 0);
const body = Buffer.from(JSON.stringify({ code: 0, message: 'success', data: { predictions: [{ class: 'red', confidence: 0.99 }] } }));
const answer = (res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
};
let busyUntil = 0;
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (serviceMs <= 0) return answer(res);
    const now = Date.now();
    busyUntil = Math.max(busyUntil, now) + serviceMs;
    setTimeout(answer, busyUntil - now, res);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ event: 'listening', port: server.address().port, device: 'cpu' })}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
