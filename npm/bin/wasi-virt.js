#!/usr/bin/env node
// The `wasi-virt` command of the npm package: the CLI built as a WebAssembly
// component (npm/build.sh puts it, transpiled by jco, in dist/cli/), run on
// @bytecodealliance/preview2-shim with the native CLI's flags.
//
// Files: on POSIX systems the component is given the root directory as
// its preopen `/` and the current directory in `PWD`, where the CLI built
// for WASI starts (src/bin/wasi-virt/main.rs, `enter_host_cwd`): relative
// and absolute paths mean what they mean to the native CLI. On Windows,
// whose paths are not WASI's, it is given the current directory as `.`,
// so only paths inside it work.
import process from "node:process";
import {
  _setArgs,
  _setCwd,
  _setEnv,
  _setTerminalStderr,
  _setTerminalStdin,
  _setTerminalStdout,
} from "@bytecodealliance/preview2-shim/cli";
import { _setPreopens, types } from "@bytecodealliance/preview2-shim/filesystem";

_setArgs(["wasi-virt", ...process.argv.slice(2)]);
const posix = process.platform !== "win32";
_setEnv(posix ? { ...process.env, PWD: process.cwd() } : process.env);
_setCwd(process.cwd());
_setPreopens(posix ? { "/": "/" } : { ".": process.cwd() });
// A stream is a terminal only if Node's is (the shim says all three are),
// so that piped output has no colours, as the native CLI's has none.
for (const [stream, set] of [
  [process.stdin, _setTerminalStdin],
  [process.stdout, _setTerminalStdout],
  [process.stderr, _setTerminalStderr],
]) {
  if (!stream.isTTY) set(undefined);
}

// wasi-libc asks for `mutate-directory` on every file it opens for
// writing; the shim refuses that flag (it has no way to grant it less).
// It means nothing for a file, so it is dropped.
const openAt = types.Descriptor.prototype.openAt;
types.Descriptor.prototype.openAt = function (pathFlags, path, openFlags, flags) {
  const asked = openFlags.directory ? flags : { ...flags, mutateDirectory: false };
  return openAt.call(this, pathFlags, path, openFlags, asked);
};

// Imported after the shim is set up: the module instantiates the component.
const { run } = await import("../dist/cli/wasi-virt.js");
try {
  run.run();
} catch (e) {
  // `run` returning its error is the CLI's failure, its `error:` line
  // printed: exit 1, the one failure status of WASI 0.2. Anything else is
  // a trap, a bug in wasi-virt.
  if (e?.constructor?.name !== "ComponentError") {
    console.error(`error: internal error: the wasi-virt component trapped (${e}); this is a bug, please report it`);
  }
  process.exitCode = 1;
}
