// The JS API (index.js) against the native CLI: the same output bytes,
// report and summary for the same policy, the same inspection, and errors
// as `Error`s with the CLI's cause chain.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { inspect, virtualize } from "../index.js";
import { guest, native, npmDir, tempDir } from "./support.js";

const TOML = `
[env]
host = "none"
overrides = { A = "1", MODE = "node" }
args = { virtual = ["one", "two"] }

[stdio]
stdout = "allow"

[clocks]
virtual = "2026-01-01T00:00:00Z"

[random]
seed = 7
`;

/** The TOML above as the object the JSON form takes. */
const OBJECT = {
  env: { host: "none", overrides: { A: "1", MODE: "node" }, args: { virtual: ["one", "two"] } },
  stdio: { stdout: "allow" },
  clocks: { virtual: "2026-01-01T00:00:00Z" },
  random: { seed: 7 },
};

/** What the native CLI writes for `policy` (TOML text) on `app`. */
function nativeRun(app, policy) {
  const dir = tempDir();
  writeFileSync(join(dir, "app.wasm"), app);
  writeFileSync(join(dir, "policy.toml"), policy);
  const stdout = native(
    ["app.wasm", "--policy", "policy.toml", "--report", "report.json", "-o", "out.wasm"],
    dir,
  );
  return {
    bytes: new Uint8Array(readFileSync(join(dir, "out.wasm"))),
    report: JSON.parse(readFileSync(join(dir, "report.json"), "utf8")),
    stdout,
  };
}

/** Everything after the first line: the CLI's first names its output file. */
const body = (summary) => summary.split("\n").slice(1).join("\n");

for (const [form, policy] of [
  ["TOML", TOML],
  ["an object", OBJECT],
]) {
  test(`virtualize with ${form} writes the native CLI's bytes and report`, () => {
    const app = guest("probe");
    const out = virtualize(app, policy);
    const want = nativeRun(app, TOML);
    assert.ok(out.bytes instanceof Uint8Array);
    assert.ok(Buffer.from(out.bytes).equals(Buffer.from(want.bytes)), "the output bytes differ");
    assert.deepEqual(out.report, want.report);
    assert.equal(out.report.schema, want.report.schema);
    assert.match(out.summary, /^virtualized component \(\d+ bytes, WASI 0\.2\.\d+\)\n/);
    assert.equal(body(out.summary), body(want.stdout));
  });
}

test("inspect gives what `wasi-virt inspect --json` prints", () => {
  const app = guest("probe");
  const dir = tempDir();
  writeFileSync(join(dir, "app.wasm"), app);
  const want = JSON.parse(native(["inspect", "--json", "app.wasm"], dir));
  const got = inspect(app);
  assert.equal(got.schema, "wasi-virt-inspect/1");
  assert.ok(got.permissions.length > 0);
  assert.deepEqual(got, want);
});

test("malformed bytes throw an Error with the cause chain", () => {
  const junk = new Uint8Array([1, 2, 3, 4]);
  assert.throws(() => inspect(junk), {
    name: "Error",
    message: "failed to inspect the component: not a WebAssembly binary (no `\\0asm` header)",
  });
  assert.throws(() => virtualize(junk, ""), (e) => {
    assert.ok(e instanceof Error);
    assert.match(e.message, /not a WebAssembly binary/);
    return true;
  });
});

test("a bad policy throws an Error naming what is wrong", () => {
  const app = guest("env-args");
  assert.throws(() => virtualize(app, "[env\n"), {
    message: /^failed to parse the TOML policy: TOML parse error at line 1/,
  });
  assert.throws(() => virtualize(app, { bogus: true }), {
    message: /^failed to parse the JSON policy: unknown field `bogus`/,
  });
  assert.throws(() => virtualize(app, { env: { overrides: { "A=B": "x" } } }), {
    message: /^failed to parse the JSON policy: in the environment's `overrides`/,
  });
  assert.throws(() => virtualize(app, 42), TypeError);
});

test("a mount of a host directory is an error, not a trap", () => {
  const app = guest("fs-reader");
  const policy = '[fs]\npreopens."/site" = { virtualize = "./site" }\n';
  assert.throws(() => virtualize(app, policy), {
    message:
      "`/site` mounts the host path `./site`, but wasi-virt as a library component has no " +
      "filesystem to read it from; give the files inline (`dir` and `source` entries) or use " +
      "the wasi-virt CLI",
  });
  // The component still works after an error.
  const inline = '[fs]\npreopens."/site" = { dir = { "index.html" = { source = "hi" } } }\n';
  assert.ok(virtualize(app, inline).bytes.length > app.length);
});

test("index.js loads only dist/lib/, which imports nothing (no WASI shim)", () => {
  const imports = (file) =>
    [...readFileSync(join(npmDir, file), "utf8").matchAll(/^\s*import\b.*?from\s+["']([^"']+)["']/gms)]
      .map((m) => m[1]);
  assert.deepEqual(imports("index.js"), ["./dist/lib/wasi-virt.js"]);
  assert.deepEqual(imports("dist/lib/wasi-virt.js"), []);
});
