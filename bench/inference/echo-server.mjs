// The trivial backend of the benchmark: answers POST /predict with a fixed prediction, so the proxy's own
// cost is all that differs between rows. Prints the model server's listening line so the same launcher works.
import http from 'node:http';

const body = Buffer.from(JSON.stringify({ code: 0, message: 'success', data: { predictions: [{ class: 'red', confidence: 0.99 }] } }));
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ event: 'listening', port: server.address().port, device: 'cpu' })}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
