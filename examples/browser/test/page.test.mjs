// The browser example, end to end: serve the repository on loopback, open
// the page in headless Chromium, and check that it virtualized the guest
// client-side into a component that imports nothing, and ran its `greet`
// with the variables and the file it was given. examples/browser/test.sh
// runs it; CHROMIUM overrides the browser (default /usr/bin/chromium).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { serve, ROOT, PAGE } from "../serve.mjs";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
// Without the background-networking flags, Chromium's own connections on a
// closed network make it refuse the page's.
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const TIMEOUT = 120_000;

let server, browser, profile, page;
const logs = [];

before(async () => {
  server = await serve(ROOT);
  profile = await mkdtemp(join(tmpdir(), "wasi-virt-chromium-"));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    ignoreDefaultArgs: true,
    args: [...FLAGS, `--user-data-dir=${profile}`, "--remote-debugging-pipe", "about:blank"],
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  page.on("console", (message) => logs.push(`console.${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => logs.push(`page error: ${error.message}`));
  const { port } = server.address();
  await page.goto(`http://127.0.0.1:${port}${PAGE}`);
});

after(async () => {
  await browser?.close();
  await new Promise((done) => (server ? server.close(done) : done()));
  if (profile) await rm(profile, { recursive: true, force: true });
});

/** Waits for the run to finish and returns what the page shows. */
async function shown() {
  await page.waitForFunction(
    () => ["done", "error"].includes(document.getElementById("status").dataset.state),
    null,
    { timeout: TIMEOUT },
  );
  return page.evaluate(() => {
    const text = (id) => document.getElementById(id).textContent;
    const count = (id) => document.getElementById(id).dataset.count;
    return {
      state: document.getElementById("status").dataset.state,
      status: text("status"),
      guestImports: text("guest-imports"),
      summary: text("summary"),
      outputImports: text("output-imports"),
      outputImportCount: count("output-imports"),
      jcoImports: text("jco-imports"),
      jcoImportCount: count("jco-imports"),
      greet: text("greet"),
    };
  });
}

function assertRan(view, greeting) {
  assert.equal(view.state, "done", `${view.status}\n${logs.join("\n")}`);
  assert.equal(view.greet, greeting);
  assert.equal(view.outputImportCount, "0", `the output imports:\n${view.outputImports}`);
  assert.equal(view.outputImports, "nothing");
  assert.equal(view.jcoImportCount, "0", `jco sees imports:\n${view.jcoImports}`);
}

test("the page virtualizes the guest and runs greet() with no imports", async () => {
  const view = await shown();
  assertRan(view, "Hello, browser!\nVirtualized client-side, run without a WASI shim.");
  // The guest itself asks for the environment and the filesystem.
  assert.match(view.guestImports, /wasi:cli\/environment/);
  assert.match(view.guestImports, /wasi:filesystem\/preopens/);
  assert.match(view.summary, /\/etc/);
});

test("what the form holds is what the output bakes in", async () => {
  await page.fill("#vars", "GREETING=Bonjour\nNAME=Chromium \"headless\"");
  await page.fill("#motd", "édition spéciale\n");
  // The run sets the state to "running" at once, and "done" at the end.
  await page.evaluate(() => (document.getElementById("status").dataset.state = "idle"));
  await page.click("#run");
  const view = await shown();
  assertRan(view, 'Bonjour, Chromium "headless"!\nédition spéciale\n');
});
