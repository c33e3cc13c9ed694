// The package as a user gets it: `npm pack` lists the right files, and the
// `wasi-virt` bin of the installed tarball, run by `npx` in a directory of
// the user's, writes what the native CLI writes.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { guest, native, npmDir, run, tempDir } from "./support.js";

let packed; // `npm pack --json`'s entry for the package
let project; // a directory with the tarball installed

before(() => {
  const dest = tempDir();
  const pack = run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dest], npmDir);
  assert.equal(pack.status, 0, pack.stderr);
  [packed] = JSON.parse(pack.stdout);
  project = tempDir();
  writeFileSync(join(project, "package.json"), '{ "private": true }\n');
  const install = run(
    "npm",
    ["install", "--prefer-offline", "--no-audit", "--no-fund", join(dest, packed.filename)],
    project,
  );
  assert.equal(install.status, 0, install.stderr);
});

test("the package holds the API, the bin, both components and nothing else", () => {
  const files = packed.files.map((f) => f.path).sort();
  for (const want of [
    "README.md",
    "bin/wasi-virt.js",
    "dist/cli/wasi-virt.js",
    "dist/lib/wasi-virt.js",
    "dist/lib/wasi-virt.core2.wasm",
    "index.d.ts",
    "index.js",
    "package.json",
  ]) {
    assert.ok(files.includes(want), `no ${want} in ${files}`);
  }
  const stray = files.filter((f) => !/^(README\.md|package\.json|index\.(js|d\.ts)|bin\/|dist\/(lib|cli)\/)/.test(f));
  assert.deepEqual(stray, []);
  assert.equal(packed.name, "wasi-virt");
});

test("npx wasi-virt writes the native CLI's bytes and summary", () => {
  writeFileSync(join(project, "app.wasm"), guest("env-args"));
  const args = ["app.wasm", "-e", "A=1", "--report", "npx.json", "-o", "npx.wasm"];
  const npx = run("npx", ["--no-install", "wasi-virt", ...args], project);
  assert.equal(npx.status, 0, npx.stderr);
  const summary = native(["app.wasm", "-e", "A=1", "--report", "native.json", "-o", "native.wasm"], project);
  const read = (file) => readFileSync(join(project, file));
  assert.ok(read("npx.wasm").equals(read("native.wasm")), "the output bytes differ");
  assert.ok(read("npx.json").equals(read("native.json")), "the reports differ");
  assert.equal(npx.stdout, summary.replace("native.wasm", "npx.wasm"));
});

test("npx wasi-virt mounts a directory as the native CLI does", () => {
  writeFileSync(join(project, "reader.wasm"), guest("fs-reader"));
  mkdirSync(join(project, "site/docs"), { recursive: true });
  writeFileSync(join(project, "site/index.html"), "<h1>hello</h1>\n");
  writeFileSync(join(project, "site/docs/a.txt"), "a\n");
  const args = ["reader.wasm", "--mount", "/site=site", "--stdout=allow", "-o"];
  const npx = run("npx", ["--no-install", "wasi-virt", ...args, "npx-site.wasm"], project);
  assert.equal(npx.status, 0, npx.stderr);
  native([...args, "native-site.wasm"], project);
  const read = (file) => readFileSync(join(project, file));
  assert.ok(read("npx-site.wasm").equals(read("native-site.wasm")), "the output bytes differ");
});

test("npx wasi-virt takes absolute paths and paths through `..`", () => {
  const outside = tempDir();
  writeFileSync(join(outside, "app.wasm"), guest("env-args"));
  mkdirSync(join(project, "sub"), { recursive: true });
  const input = join(outside, "app.wasm");
  const npx = run("npx", ["--no-install", "wasi-virt", input, "-e", "A=1", "-o", "../abs-npx.wasm"], join(project, "sub"));
  assert.equal(npx.status, 0, npx.stderr);
  native([input, "-e", "A=1", "-o", join(outside, "abs-native.wasm")], project);
  const npxOut = readFileSync(join(project, "abs-npx.wasm"));
  assert.ok(npxOut.equals(readFileSync(join(outside, "abs-native.wasm"))), "the output bytes differ");
});

test("npx wasi-virt fails as the native CLI does", () => {
  const npx = run("npx", ["--no-install", "wasi-virt", "missing.wasm", "-o", "out.wasm"], project);
  assert.equal(npx.status, 1);
  assert.match(npx.stderr, /^error: failed to read component `missing\.wasm`\n/m);
  const help = run("npx", ["--no-install", "wasi-virt", "inspect", "--help"], project);
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /--json/);
});
