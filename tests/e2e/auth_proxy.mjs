// A loopback proxy that adds `Authorization: Bearer <token>` to every request, for tools that
// cannot send headers themselves (the MCP conformance suite). Usage:
//   node auth_proxy.mjs <listen-port> <target-base-url> <token>
// Prints "listening <port>" once ready.
import http from 'node:http';

const [listenPort, target, token] = process.argv.slice(2);
const upstream = new URL(target);

const server = http.createServer((req, res) => {
  // Host and Origin pass through untouched: the edge's DNS-rebinding checks must see them.
  const headers = { ...req.headers, authorization: `Bearer ${token}` };
  const out = http.request(
    { hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers },
    (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
    },
  );
  out.on('error', (err) => {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`proxy error: ${err.message}`);
  });
  req.pipe(out);
});
server.listen(Number(listenPort), '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
