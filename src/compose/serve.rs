//! Served outputs: the two small components that stand around a component
//! serving HTTP (`wit/deps/serve.wit` draws the four instances).
//!
//! - The *mailbox* holds the host's request and response-outparam from the
//!   moment the front posts them until the adapter takes them: two handles
//!   in two globals.
//! - The *front* exports `wasi:http/incoming-handler` to the host. For a
//!   component that serves HTTP it swaps the host's request for the
//!   adapter's and calls the component's handler; for a command served per
//!   request (`--serve-http`) it runs the command between the adapter's
//!   `begin-run` and `end-run`.
//!
//! Both are a few instructions of core code, written here directly, and
//! typed by their WIT worlds through wit-component.

use anyhow::{Context, Result};
use semver::Version;
use wasm_encoder::{
    CodeSection, ConstExpr, EntityType, ExportKind, ExportSection, Function, FunctionSection,
    GlobalSection, GlobalType, ImportSection, Instruction, Module, TypeSection, ValType,
};
use wit_parser::Resolve;

/// `wasi-virt:serve/mailbox`.
pub const MAILBOX: &str = "wasi-virt:serve/mailbox";
/// The adapter's export to the front of a component that serves HTTP.
pub const HANDLER_BRIDGE: &str = "wasi-virt:serve/handler-bridge";
/// The adapter's export to the front of a command served per request.
pub const RUN_BRIDGE: &str = "wasi-virt:serve/run-bridge";
/// The front's import of the adapter's `wasi:http/types`.
pub const INNER_TYPES: &str = "wasi-virt:serve/inner-types";
/// The front's import of `HANDLER_BRIDGE`.
pub const INNER_HANDLER_BRIDGE: &str = "wasi-virt:serve/inner-handler-bridge";
/// The front's import of the component's `wasi:http/incoming-handler`.
pub const INNER_HANDLER: &str = "wasi-virt:serve/inner-handler";
/// The front's import of the command's `wasi:cli/run`.
pub const INNER_RUN: &str = "wasi-virt:serve/inner-run";

/// How the output serves HTTP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Serving {
    /// The component exports `wasi:http/incoming-handler`.
    Handler,
    /// The component is a command, run once per request (`--serve-http`).
    Run,
}

impl Serving {
    /// The adapter's bridge interface the front calls.
    pub fn bridge(self) -> &'static str {
        match self {
            Serving::Handler => HANDLER_BRIDGE,
            Serving::Run => RUN_BRIDGE,
        }
    }
}

/// Builds the mailbox component, its types at `version`.
pub fn mailbox(resolve: &Resolve, version: &Version) -> Result<Vec<u8>> {
    let mut core = Core::default();
    let pair = core.ty(&[ValType::I32, ValType::I32], &[]);
    let take = core.ty(&[], &[ValType::I32]);
    let mut globals = GlobalSection::new();
    for _ in 0..2 {
        globals.global(
            GlobalType {
                val_type: ValType::I32,
                mutable: true,
                shared: false,
            },
            &ConstExpr::i32_const(0),
        );
    }
    use Instruction as I;
    core.define(
        &format!("{MAILBOX}#put"),
        pair,
        &[
            I::LocalGet(0),
            I::GlobalSet(0),
            I::LocalGet(1),
            I::GlobalSet(1),
        ],
    );
    // A handle is never 0: an empty slot taken is a bug, and traps.
    for (global, name) in [(0, "take-request"), (1, "take-response-out")] {
        core.define(
            &format!("{MAILBOX}#{name}"),
            take,
            &[
                I::GlobalGet(global),
                I::I32Eqz,
                I::If(wasm_encoder::BlockType::Empty),
                I::Unreachable,
                I::End,
                I::GlobalGet(global),
                I::I32Const(0),
                I::GlobalSet(global),
            ],
        );
    }
    let module = core.finish(Some(globals));
    encode(resolve, "mailbox-box", module, version)
}

/// Builds the front for `serving`, exporting `wasi:http/incoming-handler`
/// at `version`.
pub fn front(resolve: &Resolve, serving: Serving, version: &Version) -> Result<Vec<u8>> {
    let mut core = Core::default();
    let pair = core.ty(&[ValType::I32, ValType::I32], &[]);
    let none = core.ty(&[], &[]);
    let take = core.ty(&[], &[ValType::I32]);
    let flag = core.ty(&[ValType::I32], &[]);
    let put = core.import(MAILBOX, "put", pair);
    use Instruction as I;
    let mut body = vec![I::LocalGet(0), I::LocalGet(1), I::Call(put)];
    let world = match serving {
        Serving::Handler => {
            let request = core.import(INNER_HANDLER_BRIDGE, "accept-request", take);
            let out = core.import(INNER_HANDLER_BRIDGE, "accept-response-out", take);
            let handle = core.import(INNER_HANDLER, "handle", pair);
            body.extend([I::Call(request), I::Call(out), I::Call(handle)]);
            "front"
        }
        Serving::Run => {
            let begin = core.import(RUN_BRIDGE, "begin-run", none);
            let run = core.import(INNER_RUN, "run", take);
            let end = core.import(RUN_BRIDGE, "end-run", flag);
            // `run`'s result is 0 for ok, 1 for an error: `failed`.
            body.extend([I::Call(begin), I::Call(run), I::Call(end)]);
            "run-front"
        }
    };
    let handler = format!("{}@{version}", crate::names::INCOMING_HANDLER);
    core.define(&format!("{handler}#handle"), pair, &body);
    let module = core.finish(None);
    encode(resolve, world, module, version)
}

/// Encodes `module` as a component of `wasi-virt:serve`'s `world`.
fn encode(resolve: &Resolve, world: &str, module: Vec<u8>, version: &Version) -> Result<Vec<u8>> {
    let package = resolve
        .package_names
        .iter()
        .find(|(name, _)| name.namespace == "wasi-virt" && name.name == "serve")
        .map(|(_, id)| *id)
        .context("internal error: the `wasi-virt:serve` WIT is not loaded")?;
    let id = resolve
        .select_world(&[package], Some(world))
        .context("internal error: a `wasi-virt:serve` world is missing")?;
    crate::wit::componentize(module, resolve, id, true)
        .with_context(|| format!("failed to build the served output's `{world}` at WASI {version}"))
}

/// A core module being written: imported functions first, then defined
/// ones, each exported.
#[derive(Default)]
struct Core {
    types: TypeSection,
    type_count: u32,
    imports: ImportSection,
    import_count: u32,
    functions: FunctionSection,
    exports: ExportSection,
    code: CodeSection,
    defined: Vec<(String, u32, Vec<Instruction<'static>>)>,
}

impl Core {
    fn ty(&mut self, params: &[ValType], results: &[ValType]) -> u32 {
        self.types
            .ty()
            .function(params.iter().copied(), results.iter().copied());
        self.type_count += 1;
        self.type_count - 1
    }

    fn import(&mut self, module: &str, name: &str, ty: u32) -> u32 {
        self.imports.import(module, name, EntityType::Function(ty));
        self.import_count += 1;
        self.import_count - 1
    }

    fn define(&mut self, export: &str, ty: u32, body: &[Instruction<'static>]) {
        self.defined.push((export.to_string(), ty, body.to_vec()));
    }

    fn finish(mut self, globals: Option<GlobalSection>) -> Vec<u8> {
        for (i, (export, ty, body)) in self.defined.iter().enumerate() {
            self.functions.function(*ty);
            self.exports
                .export(export, ExportKind::Func, self.import_count + i as u32);
            let mut f = Function::new([]);
            for instruction in body {
                f.instruction(instruction);
            }
            f.instruction(&Instruction::End);
            self.code.function(&f);
        }
        let mut module = Module::new();
        module.section(&self.types);
        module.section(&self.imports);
        module.section(&self.functions);
        if let Some(globals) = &globals {
            module.section(globals);
        }
        module.section(&self.exports);
        module.section(&self.code);
        module.finish()
    }
}
