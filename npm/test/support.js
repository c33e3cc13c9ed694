// What the tests share: the guest components `cargo test` builds, and the
// native CLI to compare with (npm/test.sh passes its path in WASI_VIRT).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const npmDir = dirname(dirname(fileURLToPath(import.meta.url)));
export const repo = dirname(npmDir);

/** A guest component built by `cargo test` (tests/components). */
export function guest(name) {
  const file = join(repo, "tests/components/target/wasm32-wasip2/release", `${name}.wasm`);
  if (!existsSync(file)) {
    throw new Error(`no guest \`${file}\`: \`cargo test\` builds the guests (or run ./test.sh)`);
  }
  return new Uint8Array(readFileSync(file));
}

/** The native CLI: $WASI_VIRT, as npm/test.sh sets it. */
export function nativeCli() {
  const cli = process.env.WASI_VIRT;
  if (!cli || !existsSync(cli)) {
    throw new Error("set WASI_VIRT to the native wasi-virt binary (npm/test.sh does)");
  }
  return cli;
}

/** Runs the native CLI with `args` in `cwd`; throws unless it succeeds. */
export function native(args, cwd) {
  return execFileSync(nativeCli(), args, { cwd, encoding: "utf8" });
}

/** Runs `command` in `cwd`, whatever its exit status. */
export function run(command, args, cwd) {
  return spawnSync(command, args, { cwd, encoding: "utf8" });
}

export function tempDir() {
  return mkdtempSync(join(tmpdir(), "wasi-virt-npm-"));
}
