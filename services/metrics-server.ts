// The HTTP side of `serve`: GET /metrics (Prometheus text format) and GET /healthz (the exporter is
// alive, with the last health verdict), nothing else. Listens on loopback by default
// (metrics.listen, --listen).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CadenceMetrics } from './metrics.js';

export interface MetricsServer {
  server: Server;
  host: string;
  port: number;
  url: string;
  close(): Promise<void>;
}

export function parseListen(text: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^\s:]+):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || !(port >= 0 && port <= 65_535))
    throw new Error(`expected HOST:PORT (e.g. 127.0.0.1:9464), got "${text}"`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

export async function startMetricsServer(opts: {
  host: string;
  port: number;
  metrics: CadenceMetrics;
  healthz: () => Record<string, unknown>;
  onError?: (err: Error) => void;
}): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (url === '/metrics') {
      opts.metrics.render().then(
        (text) => {
          res.writeHead(200, { 'content-type': opts.metrics.contentType });
          res.end(req.method === 'HEAD' ? undefined : text);
        },
        (err: Error) => {
          opts.onError?.(err);
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.message}\n`);
        },
      );
      return;
    }
    if (url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify({ status: 'ok', ...opts.healthz() })}\n`);
      return;
    }
    if (url === '/') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('cadence-ops: /metrics, /healthz\n');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /healthz\n');
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => opts.onError?.(err));
  const address = server.address() as AddressInfo;
  const hostText = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    host: address.address,
    port: address.port,
    url: `http://${hostText}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
