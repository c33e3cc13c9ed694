// A static file server for the browser example: serves the repository's
// root on loopback, so that the page (examples/browser/) can import the
// wasi-virt package (npm/) next to it. `node serve.mjs [PORT]` prints the
// page's address; the test (test/page.test.mjs) starts one on a free port.
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const PAGE = "/examples/browser/index.html";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".css": "text/css",
};

/** The file under `root` that a request's path names, or null. */
function fileFor(root, urlPath) {
  const path = normalize(decodeURIComponent(urlPath.split("?")[0]));
  const file = join(root, path);
  return file === root || file.startsWith(root + sep) ? file : null;
}

async function answer(root, request, response) {
  let file = fileFor(root, request.url);
  if (file && (await stat(file).catch(() => null))?.isDirectory()) {
    file = join(file, "index.html");
  }
  const body = file && (await readFile(file).catch(() => null));
  if (!body) {
    response.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    return;
  }
  const type = TYPES[extname(file)] ?? "application/octet-stream";
  response.writeHead(200, { "content-type": type, "cache-control": "no-store" }).end(body);
}

/** Starts serving `root` on 127.0.0.1:`port` (0: any free port). */
export function serve(root = ROOT, port = 0) {
  const server = createServer((request, response) => {
    answer(root, request, response).catch((error) => {
      response.writeHead(500, { "content-type": "text/plain" }).end(`${error}\n`);
    });
  });
  return new Promise((done, failed) => {
    server.once("error", failed);
    server.listen(port, "127.0.0.1", () => done(server));
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const server = await serve(ROOT, Number(process.argv[2] ?? 8080));
  console.log(`http://127.0.0.1:${server.address().port}${PAGE}`);
}
