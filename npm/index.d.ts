/**
 * A policy: a policy file's TOML text, or an object of the same structure
 * (the serde form of `wasi_virt::Policy`: the TOML tables as objects, keys
 * in kebab-case). Every subsystem it does not configure is denied, as with
 * `wasi-virt --policy`.
 */
export type Policy = string | Record<string, unknown>;

/** What {@link virtualize} produced. */
export interface Output {
  /** The virtualized component. */
  bytes: Uint8Array;
  /** The report: what `wasi-virt --report FILE` writes, parsed. */
  report: Record<string, any>;
  /** The summary the CLI prints: the output and what it asks of its host. */
  summary: string;
}

/**
 * Virtualizes a component (or a WASI preview 1 core module): the bytes
 * `wasi-virt COMPONENT --policy FILE -o OUT` writes. A policy cannot mount
 * host directories (`virtualize = "path"`) or name catalog files here: give
 * files inline (`dir`, `source`). Throws an `Error` whose message is the
 * CLI's `error:` text, every cause joined by `: `.
 */
export function virtualize(bytes: Uint8Array | ArrayBuffer, policy: Policy): Output;

/**
 * What a component (or a core module) asks its host for, by permission:
 * the `wasi-virt inspect --json` object (schema `wasi-virt-inspect/1`).
 * Throws as {@link virtualize} does.
 */
export function inspect(bytes: Uint8Array | ArrayBuffer): Record<string, any>;
