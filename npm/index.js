// wasi-virt for JavaScript: the library component (crates/component), sealed
// so that it imports nothing and transpiled by jco into dist/lib/
// (npm/build.sh). It loads the same in Node and in a browser, with no WASI
// shim: this file imports nothing but dist/lib/.
import { virt } from "./dist/lib/wasi-virt.js";

/**
 * Virtualizes a component. `policy` is a policy file's TOML text, or an
 * object of the same structure (sent as JSON); every subsystem it does not
 * configure is denied, as with `wasi-virt --policy`.
 */
export function virtualize(bytes, policy) {
  const out = call(() => virt.virtualize(asBytes(bytes), policyOf(policy)));
  return { bytes: out.bytes, report: JSON.parse(out.report), summary: out.summary };
}

/** What a component asks its host for: the `wasi-virt inspect --json` object. */
export function inspect(bytes) {
  return JSON.parse(call(() => virt.inspect(asBytes(bytes))));
}

function policyOf(policy) {
  if (typeof policy === "string") return { tag: "toml", val: policy };
  if (policy !== null && typeof policy === "object") {
    return { tag: "json", val: JSON.stringify(policy) };
  }
  throw new TypeError("wasi-virt: the policy is TOML text or an object");
}

function asBytes(bytes) {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  throw new TypeError("wasi-virt: the component is a Uint8Array");
}

/** `f()`, its error (the `error:` cause chain) thrown as an `Error`. */
function call(f) {
  try {
    return f();
  } catch (e) {
    if (typeof e?.payload === "string") throw new Error(e.payload);
    throw e;
  }
}
