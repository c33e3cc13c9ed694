// The browser example (README.md): virtualize guest/'s component with the
// wasi-virt library from npm/, check that the output imports nothing,
// transpile it with jco and call its `greet` export with no imports at all.
import { virtualize, inspect } from "../../npm/index.js";
import { $init as jcoReady, generate } from "@bytecodealliance/jco-transpile/component";

const GUEST_URL = "./guest/target/wasm32-wasip2/release/browser_guest.wasm";

const $ = (id) => document.getElementById(id);

/** `NAME=value` lines to pairs; blank lines are skipped. */
function parseVars(text) {
  const pairs = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const eq = line.indexOf("=");
    if (eq <= 0) throw new Error(`\`${line}\` is not NAME=value`);
    pairs.push([line.slice(0, eq).trim(), line.slice(eq + 1)]);
  }
  return pairs;
}

/** A TOML basic string. JSON's escapes are TOML's, but for DEL. */
function tomlString(text) {
  return JSON.stringify(text).replaceAll("\x7f", "\\u007f");
}

/**
 * The policy, as a wasi-virt policy file (docs/policy.md): every subsystem
 * the guest asks for is denied, and what `greet` reads is baked in.
 * npm/index.js denies what a policy leaves out, as `wasi-virt --policy`
 * does; the denials are written out anyway, so that the page shows the
 * whole policy.
 */
function policyToml(vars, motd) {
  const overrides = vars.map(([k, v]) => `${tomlString(k)} = ${tomlString(v)}`).join(", ");
  return [
    'clocks = "deny"',
    'random = "deny"',
    'exit = "deny"',
    'sockets = "deny"',
    'http = "deny"',
    "",
    "[env]",
    'host = "none"',
    `overrides = { ${overrides} }`,
    "",
    "[stdio]",
    'stdin = "deny"',
    'stdout = "deny"',
    'stderr = "deny"',
    "",
    "[fs]",
    "host-preopens = false",
    `preopens."/etc" = { dir = { "motd" = { source = ${tomlString(motd)} } } }`,
    "",
  ].join("\n");
}

/**
 * Every import an inspection (`wasi-virt-inspect/1`, docs/permissions.md)
 * lists: by permission, the carriers, the ungoverned ones and, for a core
 * module, the unknown ones.
 */
function importNames(inspection) {
  const names = [];
  for (const permission of inspection.permissions ?? []) {
    for (const iface of permission.interfaces ?? []) {
      names.push(`${iface.name} (${permission.permission})`);
    }
  }
  for (const carrier of inspection.carriers ?? []) names.push(carrier.name ?? String(carrier));
  for (const name of inspection.ungoverned ?? []) names.push(name);
  for (const module of inspection.unknown ?? []) names.push(module.name);
  return names;
}

function showList(id, names) {
  $(id).textContent = names.length === 0 ? "nothing" : names.join("\n");
  $(id).dataset.count = String(names.length);
}

/** jco's transpile, for instantiation by the caller: no file is written. */
async function transpile(bytes) {
  await jcoReady;
  const out = generate(bytes, {
    name: "guest",
    instantiation: { tag: "async" },
    noTypescript: true,
  });
  return { files: new Map(out.files), imports: out.imports };
}

/**
 * Loads the transpiled module from memory and instantiates it with the
 * imports `{}`: the virtualized component asks its host for nothing.
 */
async function instantiate(files) {
  const js = new Blob([files.get("guest.js")], { type: "text/javascript" });
  const url = URL.createObjectURL(js);
  try {
    const module = await import(url);
    const coreModule = (name) => WebAssembly.compile(files.get(name));
    return await module.instantiate(coreModule, {});
  } finally {
    URL.revokeObjectURL(url);
  }
}

let guestBytes;

async function run() {
  $("status").dataset.state = "running";
  $("status").textContent = "Virtualizing…";
  for (const id of ["policy", "summary", "output-imports", "jco-imports", "greet"]) {
    $(id).textContent = "";
  }
  guestBytes ??= await fetchGuest();
  showList("guest-imports", importNames(inspect(guestBytes)));

  const policy = policyToml(parseVars($("vars").value), $("motd").value);
  $("policy").textContent = policy;
  const output = virtualize(guestBytes, policy);
  $("summary").textContent = output.summary;
  showList("output-imports", importNames(inspect(output.bytes)));

  $("status").textContent = "Transpiling with jco…";
  const { files, imports } = await transpile(output.bytes);
  showList("jco-imports", imports);
  const instance = await instantiate(files);
  $("greet").textContent = instance.greet();
  $("status").dataset.state = "done";
  $("status").textContent = `Done: ${output.bytes.length} bytes, run with no imports.`;
}

async function fetchGuest() {
  const response = await fetch(GUEST_URL);
  if (!response.ok) {
    throw new Error(`${GUEST_URL}: ${response.status}; build it with ./test.sh`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

function fail(error) {
  console.error(error);
  $("status").dataset.state = "error";
  $("status").textContent = `error: ${error?.message ?? error}`;
}

$("form").addEventListener("submit", (event) => {
  event.preventDefault();
  run().catch(fail);
});
run().catch(fail);
