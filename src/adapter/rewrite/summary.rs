//! What the rewrite needs to know about the adapter module, read in one pass.

use anyhow::{bail, Result};
use wasi_virt_layout::refs::{Ref, Refs, Span};
use wasi_virt_layout::{HOOK_MODULE, REFS_SECTION};
use wasmparser::{ElementItems, ExternalKind, FunctionBody, Operator, Parser, Payload, TypeRef};

/// One function import.
pub struct Import<'a> {
    pub module: &'a str,
    pub name: &'a str,
    pub ty: u32,
}

/// One data segment: where an active one is written, and its bytes.
pub struct Segment<'a> {
    /// The address it is written at, if it is active (passive otherwise).
    pub offset: Option<u64>,
    pub bytes: &'a [u8],
}

/// The adapter module, summarized.
#[derive(Default)]
pub struct Summary<'a> {
    /// How many types the type section declares.
    pub types: usize,
    pub imports: Vec<Import<'a>>,
    /// The type of each defined function.
    pub defined: Vec<u32>,
    pub bodies: Vec<FunctionBody<'a>>,
    pub exports: Vec<(&'a str, ExternalKind, u32)>,
    /// The value of each global whose initializer is an `i32.const`.
    pub global_i32: Vec<Option<i32>>,
    pub start: Option<u32>,
    /// Functions referenced by global initializers and element expressions:
    /// always live.
    pub referenced: Vec<u32>,
    /// Functions placed in tables by element segments: live only if a live
    /// function makes an indirect call of their type.
    pub in_tables: Vec<u32>,
    pub memory: Option<wasmparser::MemoryType>,
    /// The data segments, in order.
    pub segments: Vec<Segment<'a>>,
    /// Whether it has a data count section.
    pub has_data_count: bool,
    /// What each defined function and data object refers to
    /// ([`REFS_SECTION`], written when `lib/` is built); without it, every
    /// function in the table counts as held.
    pub refs: Option<Refs>,
}

impl<'a> Summary<'a> {
    /// Reads `wasm`.
    pub fn parse(wasm: &'a [u8]) -> Result<Summary<'a>> {
        let mut s = Summary::default();
        for payload in Parser::new(0).parse_all(wasm) {
            s.add(payload?)?;
        }
        if let Some(refs) = &s.refs {
            let objects = refs.objects.len() as u32;
            let fits = |list: &Vec<Ref>| {
                list.iter().all(|r| match *r {
                    Ref::Object(o) => o < objects,
                    Ref::Function(_) => true,
                })
            };
            let lies_in_segment = |span: &Span| {
                let end = u64::from(span.offset) + u64::from(span.size);
                s.segments
                    .get(span.segment as usize)
                    .is_some_and(|segment| end <= segment.bytes.len() as u64)
            };
            if refs.functions.len() != s.defined.len()
                || !refs.objects.iter().chain(&refs.functions).all(fits)
                || !refs.spans.iter().all(lies_in_segment)
            {
                bail!("the adapter's `{REFS_SECTION}` section does not fit its module");
            }
        }
        Ok(s)
    }

    fn add(&mut self, payload: Payload<'a>) -> Result<()> {
        match payload {
            Payload::TypeSection(section) => self.types = section.count() as usize,
            Payload::ImportSection(section) => {
                for import in section.into_imports() {
                    let import = import?;
                    let TypeRef::Func(ty) = import.ty else {
                        bail!(
                            "adapter imports `{}::{}`, which is not a function",
                            import.module,
                            import.name
                        );
                    };
                    self.imports.push(Import {
                        module: import.module,
                        name: import.name,
                        ty,
                    });
                }
            }
            Payload::FunctionSection(section) => {
                for ty in section {
                    self.defined.push(ty?);
                }
            }
            Payload::MemorySection(section) => {
                for memory in section {
                    if self.memory.replace(memory?).is_some() {
                        bail!("adapter defines more than one memory");
                    }
                }
            }
            Payload::GlobalSection(section) => {
                for global in section {
                    let value = self.const_expr(&global?.init_expr)?;
                    self.global_i32.push(value);
                }
            }
            Payload::ExportSection(section) => {
                for export in section {
                    let e = export?;
                    self.exports.push((e.name, e.kind, e.index));
                }
            }
            Payload::StartSection { func, .. } => self.start = Some(func),
            Payload::ElementSection(section) => {
                for element in section {
                    self.element(element?.items)?;
                }
            }
            Payload::CodeSectionEntry(body) => self.bodies.push(body),
            Payload::DataSection(section) => {
                for data in section {
                    let data = data?;
                    let offset = match data.kind {
                        wasmparser::DataKind::Active { offset_expr, .. } => {
                            Some(const_i32(&offset_expr)? as u32 as u64)
                        }
                        wasmparser::DataKind::Passive => None,
                    };
                    self.segments.push(Segment {
                        offset,
                        bytes: data.data,
                    });
                }
            }
            Payload::DataCountSection { .. } => self.has_data_count = true,
            Payload::CustomSection(c) if c.name() == REFS_SECTION => {
                let refs = Refs::decode(c.data());
                self.refs = Some(refs.ok_or_else(|| {
                    anyhow::anyhow!("the adapter's `{REFS_SECTION}` section is malformed")
                })?);
            }
            _ => {}
        }
        Ok(())
    }

    /// Notes the functions a constant expression references; its value if
    /// it is an `i32.const`.
    fn const_expr(&mut self, expr: &wasmparser::ConstExpr<'_>) -> Result<Option<i32>> {
        let mut ops = expr.get_operators_reader();
        let mut value = None;
        while !ops.eof() {
            match ops.read()? {
                Operator::I32Const { value: v } => value = Some(v),
                Operator::RefFunc { function_index } => self.referenced.push(function_index),
                _ => {}
            }
        }
        Ok(value)
    }

    fn element(&mut self, items: ElementItems<'_>) -> Result<()> {
        match items {
            ElementItems::Functions(funcs) => {
                for f in funcs {
                    self.in_tables.push(f?);
                }
            }
            ElementItems::Expressions(_, exprs) => {
                for expr in exprs {
                    self.const_expr(&expr?)?;
                }
            }
        }
        Ok(())
    }

    /// The number of imported functions, where defined functions start.
    pub fn import_count(&self) -> u32 {
        self.imports.len() as u32
    }

    /// The type of function `f`.
    pub fn type_of(&self, f: u32) -> u32 {
        match f.checked_sub(self.import_count()) {
            None => self.imports[f as usize].ty,
            Some(d) => self.defined[d as usize],
        }
    }

    /// The index of the hook import `name` (`crates/layout`), if any.
    pub fn hook(&self, name: &str) -> Option<u32> {
        self.imports
            .iter()
            .position(|i| (i.module, i.name) == (HOOK_MODULE, name))
            .map(|i| i as u32)
    }

    /// The index of the exported item `name` of `kind`.
    pub fn export(&self, name: &str, kind: ExternalKind) -> Option<u32> {
        self.exports
            .iter()
            .find(|(n, k, _)| *n == name && *k == kind)
            .map(|(_, _, index)| *index)
    }
}

/// The value of an `i32.const` constant expression.
fn const_i32(expr: &wasmparser::ConstExpr<'_>) -> Result<i32> {
    let mut ops = expr.get_operators_reader();
    match (ops.read()?, ops.read()?) {
        (Operator::I32Const { value }, Operator::End) => Ok(value),
        _ => bail!("adapter has a data segment whose offset is not an `i32.const`"),
    }
}

/// Functions a body calls or references, the types it calls indirectly,
/// and the types its blocks name, in the code left once what follows a
/// call of a trap is cut ([`live_operators`]): one pass gives liveness
/// what it needs and the numbering of types what the kept code names.
pub fn callees(
    body: &FunctionBody<'_>,
    traps: &[bool],
    funcs: &mut Vec<u32>,
    types: &mut Vec<u32>,
    blocks: &mut Vec<u32>,
) -> Result<()> {
    live_operators(body, traps, |op| {
        match *op {
            Operator::Call { function_index }
            | Operator::ReturnCall { function_index }
            | Operator::RefFunc { function_index } => funcs.push(function_index),
            Operator::CallIndirect { type_index, .. }
            | Operator::ReturnCallIndirect { type_index, .. } => types.push(type_index),
            Operator::Block { blockty } | Operator::Loop { blockty } | Operator::If { blockty } => {
                if let wasmparser::BlockType::FuncType(ty) = blockty {
                    blocks.push(ty);
                }
            }
            _ => {}
        }
        Ok(())
    })
}

/// Visits the operators of `body` that the rewrite keeps: after a call of a
/// function that `traps` marks (a denied import, an unbound hook), the rest
/// of the enclosing block can never run, so it is cut up to that block's
/// `end` (or `else`, which begins code that can run again); the rewrite
/// puts an `unreachable` after the call, which makes the cut valid. The
/// code that would have used the call's results (lifting a host answer,
/// say) then goes, and whatever only it called.
pub fn live_operators<'a>(
    body: &FunctionBody<'a>,
    traps: &[bool],
    mut visit: impl FnMut(&Operator<'a>) -> Result<()>,
) -> Result<()> {
    let mut ops = body.get_operators_reader()?;
    // While cutting: how many blocks deeper than the cut one we are.
    let mut cutting: Option<u32> = None;
    while !ops.eof() {
        let op = ops.read()?;
        if let Some(depth) = cutting.as_mut() {
            match op {
                Operator::Block { .. }
                | Operator::Loop { .. }
                | Operator::If { .. }
                | Operator::Try { .. }
                | Operator::TryTable { .. } => *depth += 1,
                Operator::End | Operator::Delegate { .. } if *depth > 0 => *depth -= 1,
                Operator::End
                | Operator::Else
                | Operator::Catch { .. }
                | Operator::CatchAll
                | Operator::Delegate { .. }
                    if *depth == 0 =>
                {
                    cutting = None;
                    visit(&op)?;
                }
                _ => {}
            }
            continue;
        }
        visit(&op)?;
        if let Operator::Call { function_index } = op {
            if traps.get(function_index as usize).copied().unwrap_or(false) {
                cutting = Some(0);
            }
        }
    }
    Ok(())
}
