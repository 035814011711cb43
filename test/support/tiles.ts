// Map tiles for the browser tests: a folder of small PNG tiles (z/x/y.png, made here with zlib:
// nothing is downloaded and no binary is committed) served by a local HTTP server that records
// every request and can be switched to failing. The Web Mercator helpers are the slippy-map tile
// scheme Leaflet, 天地图 and 高德 share (EPSG:3857, 256 px tiles).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';

/** World pixel coordinates of a point at zoom z (256 × 2^z pixels around the world). */
export function worldPixel(lat: number, lon: number, z: number): { x: number; y: number } {
  const size = 256 * 2 ** z;
  const phi = (lat * Math.PI) / 180;
  return { x: ((lon + 180) / 360) * size, y: ((1 - Math.log(Math.tan(phi) + 1 / Math.cos(phi)) / Math.PI) / 2) * size };
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A 256×256 RGB PNG: a pale fill (alternating per tile) with a darker 1 px border, so tile seams show. */
export function tilePng(x: number, y: number): Buffer {
  const fill = (x + y) % 2 === 0 ? [232, 240, 226] : [220, 232, 240];
  const edge = [150, 160, 170];
  const rows: Buffer[] = [];
  for (let row = 0; row < 256; row++) {
    const line = Buffer.alloc(1 + 256 * 3);
    for (let col = 0; col < 256; col++) line.set(row === 0 || col === 0 ? edge : fill, 1 + col * 3);
    rows.push(line);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(256, 0);
  header.writeUInt32BE(256, 4);
  header.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

/** Writes z/x/y.png for zooms `zooms` covering the box around the points, `margin` tiles wider each side. */
export function writeTiles(dir: string, points: { lat: number; lon: number }[], zooms: number[], margin = 4): number {
  let written = 0;
  for (const z of zooms) {
    const pixels = points.map((p) => worldPixel(p.lat, p.lon, z));
    const [x0, x1] = [Math.min(...pixels.map((p) => p.x)), Math.max(...pixels.map((p) => p.x))].map((v) => Math.floor(v / 256)) as [number, number];
    const [y0, y1] = [Math.min(...pixels.map((p) => p.y)), Math.max(...pixels.map((p) => p.y))].map((v) => Math.floor(v / 256)) as [number, number];
    for (let x = x0 - margin; x <= x1 + margin; x++) {
      mkdirSync(join(dir, String(z), String(x)), { recursive: true });
      for (let y = y0 - margin; y <= y1 + margin; y++) {
        writeFileSync(join(dir, String(z), String(x), `${y}.png`), tilePng(x, y));
        written++;
      }
    }
  }
  return written;
}

export interface TileRequest {
  path: string;
  status: number;
}

export interface TileServer {
  /** Leaflet URL template of the folder, e.g. http://127.0.0.1:PORT/tiles/{z}/{x}/{y}.png */
  template: string;
  origin: string;
  requests: TileRequest[];
  /** true: every tile answers 503 (a tile server that is down). */
  failing: boolean;
  close(): Promise<void>;
}

export async function serveTiles(dir: string): Promise<TileServer> {
  const requests: TileRequest[] = [];
  const state = { failing: false };
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const match = /^\/tiles\/(\d+)\/(\d+)\/(\d+)\.png$/.exec(path);
    const file = match ? join(dir, match[1]!, match[2]!, `${match[3]}.png`) : null;
    const status = state.failing ? 503 : file && existsSync(file) ? 200 : 404;
    requests.push({ path, status });
    if (status !== 200) {
      res.writeHead(status).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'image/png', 'cache-control': 'no-store' }).end(readFileSync(file!));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    template: `${origin}/tiles/{z}/{x}/{y}.png`,
    origin,
    requests,
    get failing() {
      return state.failing;
    },
    set failing(value: boolean) {
      state.failing = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
