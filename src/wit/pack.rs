//! The WIT packages resolved at build time, packed.
//!
//! Parsing and resolving the WIT in `wit/` took a third of a CLI run (more
//! than the rewrite of the adapter), every run, for the same text. So
//! `build.rs` resolves it once, with wit-parser as the library did, and
//! writes the [`Resolve`] with [`write`]; the library reads it back with
//! [`read`], in a tenth of the time. Both sides compile this file.
//!
//! The format: every arena in order (worlds, interfaces, types, packages),
//! each item's fields in declaration order; then the package names and the
//! features. Numbers are unsigned LEB128, strings are a length and UTF-8,
//! an id is its index in its arena, an `Option` or an enum a tag byte and
//! its contents. Docs and source spans are not kept: the WIT is parsed
//! without comments, and errors about it name no location once resolved.
//!
//! A round-trip test (`src/wit.rs`) compares what is read with what
//! wit-parser resolves from the text.

use id_arena::{ArenaBehavior, DefaultArenaBehavior};
use semver::Version;
use wit_parser::{
    Case, Docs, EnumCase, Field, Flag, Function, FunctionKind, Handle, Interface, Package,
    PackageName, Param, Resolve, Stability, Type, TypeDef, TypeDefKind, TypeOwner, World,
    WorldItem, WorldKey,
};

/// Why packed WIT could not be read.
pub type Malformed = String;

/// `resolve` packed.
pub fn write(resolve: &Resolve) -> Vec<u8> {
    let mut w = Writer::default();
    w.list(resolve.worlds.iter(), |w, (_, world)| w.world(world));
    w.list(resolve.interfaces.iter(), |w, (_, i)| w.interface(i));
    w.list(resolve.types.iter(), |w, (_, ty)| w.type_def(ty));
    w.list(resolve.packages.iter(), |w, (_, package)| {
        w.package_name(&package.name);
        w.named_ids(package.interfaces.iter().map(|(n, id)| (n, id.index())));
        w.named_ids(package.worlds.iter().map(|(n, id)| (n, id.index())));
    });
    w.list(resolve.package_names.iter(), |w, (name, id)| {
        w.package_name(name);
        w.len(id.index());
    });
    w.list(resolve.features.iter(), |w, feature| w.str(feature));
    w.bool(resolve.all_features);
    w.out
}

/// The [`Resolve`] that [`write`] packed as `bytes`.
pub fn read(bytes: &[u8]) -> Result<Resolve, Malformed> {
    let mut resolve = Resolve::default();
    let mut r = Reader::new(bytes, &resolve);
    for _ in 0..r.len()? {
        let world = r.world()?;
        resolve.worlds.alloc(world);
    }
    for _ in 0..r.len()? {
        let interface = r.interface()?;
        resolve.interfaces.alloc(interface);
    }
    for _ in 0..r.len()? {
        let ty = r.type_def()?;
        resolve.types.alloc(ty);
    }
    for _ in 0..r.len()? {
        let name = r.package_name()?;
        let interfaces = r.list(|r| Ok((r.str()?, r.interface_id()?)))?;
        let worlds = r.list(|r| Ok((r.str()?, r.world_id()?)))?;
        resolve.packages.alloc(Package {
            name,
            docs: Docs::default(),
            interfaces: interfaces.into_iter().collect(),
            worlds: worlds.into_iter().collect(),
        });
    }
    let names = r.list(|r| Ok((r.package_name()?, r.package_id()?)))?;
    resolve.package_names = names.into_iter().collect();
    resolve.features = r.list(Reader::str)?.into_iter().collect();
    resolve.all_features = r.bool()?;
    if r.pos != bytes.len() {
        return Err("packed WIT has bytes after its end".into());
    }
    let lens = [
        resolve.worlds.len(),
        resolve.interfaces.len(),
        resolve.types.len(),
        resolve.packages.len(),
    ];
    if r.most
        .iter()
        .zip(lens)
        .any(|(most, len)| most.is_some_and(|m| m >= len))
    {
        return Err("packed WIT names an item it does not hold".into());
    }
    Ok(resolve)
}

#[derive(Default)]
struct Writer {
    out: Vec<u8>,
}

impl Writer {
    fn len(&mut self, mut n: usize) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                self.out.push(byte);
                return;
            }
            self.out.push(byte | 0x80);
        }
    }

    fn bool(&mut self, b: bool) {
        self.out.push(b as u8);
    }

    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.out.extend_from_slice(s.as_bytes());
    }

    fn list<I: ExactSizeIterator>(&mut self, items: I, mut each: impl FnMut(&mut Self, I::Item)) {
        self.len(items.len());
        for item in items {
            each(self, item);
        }
    }

    /// Names and the indices of what they name.
    fn named_ids<'a>(&mut self, items: impl ExactSizeIterator<Item = (&'a String, usize)>) {
        self.list(items, |w, (name, index)| {
            w.str(name);
            w.len(index);
        });
    }

    fn opt<T>(&mut self, value: &Option<T>, mut each: impl FnMut(&mut Self, &T)) {
        self.bool(value.is_some());
        if let Some(value) = value {
            each(self, value);
        }
    }

    fn opt_str(&mut self, s: &Option<String>) {
        self.opt(s, |w, s| w.str(s));
    }

    fn version(&mut self, v: &Version) {
        self.str(&v.to_string());
    }

    fn package_name(&mut self, name: &PackageName) {
        self.str(&name.namespace);
        self.str(&name.name);
        self.opt(&name.version, Self::version);
    }

    fn stability(&mut self, stability: &Stability) {
        match stability {
            Stability::Unknown => self.out.push(0),
            Stability::Unstable {
                feature,
                deprecated,
            } => {
                self.out.push(1);
                self.str(feature);
                self.opt(deprecated, Self::version);
            }
            Stability::Stable { since, deprecated } => {
                self.out.push(2);
                self.version(since);
                self.opt(deprecated, Self::version);
            }
        }
    }

    fn ty(&mut self, ty: &Type) {
        let tag = match ty {
            Type::Bool => 0,
            Type::U8 => 1,
            Type::U16 => 2,
            Type::U32 => 3,
            Type::U64 => 4,
            Type::S8 => 5,
            Type::S16 => 6,
            Type::S32 => 7,
            Type::S64 => 8,
            Type::F32 => 9,
            Type::F64 => 10,
            Type::Char => 11,
            Type::String => 12,
            Type::ErrorContext => 13,
            Type::Id(id) => {
                self.out.push(14);
                self.len(id.index());
                return;
            }
        };
        self.out.push(tag);
    }

    fn opt_ty(&mut self, ty: &Option<Type>) {
        self.opt(ty, Self::ty);
    }

    fn world(&mut self, world: &World) {
        assert!(
            world.includes.is_empty(),
            "a resolved world includes nothing"
        );
        self.str(&world.name);
        for items in [&world.imports, &world.exports] {
            self.list(items.iter(), |w, (key, item)| {
                match key {
                    WorldKey::Name(name) => {
                        w.out.push(0);
                        w.str(name);
                    }
                    WorldKey::Interface(id) => {
                        w.out.push(1);
                        w.len(id.index());
                    }
                }
                w.world_item(item);
            });
        }
        self.opt(&world.package, |w, id| w.len(id.index()));
        self.stability(&world.stability);
    }

    fn world_item(&mut self, item: &WorldItem) {
        match item {
            WorldItem::Interface {
                id,
                stability,
                external_id,
                ..
            } => {
                self.out.push(0);
                self.len(id.index());
                self.stability(stability);
                self.opt_str(external_id);
            }
            WorldItem::Function(function) => {
                self.out.push(1);
                self.function(function);
            }
            WorldItem::Type { id, .. } => {
                self.out.push(2);
                self.len(id.index());
            }
        }
    }

    fn interface(&mut self, interface: &Interface) {
        self.opt_str(&interface.name);
        self.named_ids(interface.types.iter().map(|(n, id)| (n, id.index())));
        self.list(interface.functions.values(), Self::function);
        self.stability(&interface.stability);
        self.opt(&interface.package, |w, id| w.len(id.index()));
        self.opt(&interface.clone_of, |w, id| w.len(id.index()));
    }

    fn function(&mut self, function: &Function) {
        self.str(&function.name);
        let (tag, resource) = match &function.kind {
            FunctionKind::Freestanding => (0, None),
            FunctionKind::AsyncFreestanding => (1, None),
            FunctionKind::Getter => (2, None),
            FunctionKind::Setter => (3, None),
            FunctionKind::Method(id) => (4, Some(id)),
            FunctionKind::AsyncMethod(id) => (5, Some(id)),
            FunctionKind::MethodGetter(id) => (6, Some(id)),
            FunctionKind::MethodSetter(id) => (7, Some(id)),
            FunctionKind::Static(id) => (8, Some(id)),
            FunctionKind::AsyncStatic(id) => (9, Some(id)),
            FunctionKind::StaticGetter(id) => (10, Some(id)),
            FunctionKind::StaticSetter(id) => (11, Some(id)),
            FunctionKind::Constructor(id) => (12, Some(id)),
        };
        self.out.push(tag);
        if let Some(id) = resource {
            self.len(id.index());
        }
        self.list(function.params.iter(), |w, param| {
            w.str(&param.name);
            w.ty(&param.ty);
        });
        self.opt_ty(&function.result);
        self.stability(&function.stability);
        self.opt_str(&function.external_id);
    }

    fn type_def(&mut self, ty: &TypeDef) {
        self.opt_str(&ty.name);
        self.type_kind(&ty.kind);
        match ty.owner {
            TypeOwner::World(id) => {
                self.out.push(0);
                self.len(id.index());
            }
            TypeOwner::Interface(id) => {
                self.out.push(1);
                self.len(id.index());
            }
            TypeOwner::None => self.out.push(2),
        }
        self.stability(&ty.stability);
        self.opt_str(&ty.external_id);
    }

    fn type_kind(&mut self, kind: &TypeDefKind) {
        match kind {
            TypeDefKind::Record(record) => {
                self.out.push(0);
                self.list(record.fields.iter(), |w, field| {
                    w.str(&field.name);
                    w.ty(&field.ty);
                });
            }
            TypeDefKind::Resource => self.out.push(1),
            TypeDefKind::Handle(Handle::Own(id)) => {
                self.out.push(2);
                self.len(id.index());
            }
            TypeDefKind::Handle(Handle::Borrow(id)) => {
                self.out.push(3);
                self.len(id.index());
            }
            TypeDefKind::Flags(flags) => {
                self.out.push(4);
                self.list(flags.flags.iter(), |w, flag| w.str(&flag.name));
            }
            TypeDefKind::Tuple(tuple) => {
                self.out.push(5);
                self.list(tuple.types.iter(), Self::ty);
            }
            TypeDefKind::Variant(variant) => {
                self.out.push(6);
                self.list(variant.cases.iter(), |w, case| {
                    w.str(&case.name);
                    w.opt_ty(&case.ty);
                });
            }
            TypeDefKind::Enum(e) => {
                self.out.push(7);
                self.list(e.cases.iter(), |w, case| w.str(&case.name));
            }
            TypeDefKind::Option(ty) => {
                self.out.push(8);
                self.ty(ty);
            }
            TypeDefKind::Result(result) => {
                self.out.push(9);
                self.opt_ty(&result.ok);
                self.opt_ty(&result.err);
            }
            TypeDefKind::List(ty) => {
                self.out.push(10);
                self.ty(ty);
            }
            TypeDefKind::Map(key, value) => {
                self.out.push(11);
                self.ty(key);
                self.ty(value);
            }
            TypeDefKind::FixedLengthList(ty, n) => {
                self.out.push(12);
                self.ty(ty);
                self.len(*n as usize);
            }
            TypeDefKind::Future(ty) => {
                self.out.push(13);
                self.opt_ty(ty);
            }
            TypeDefKind::Stream(ty) => {
                self.out.push(14);
                self.opt_ty(ty);
            }
            TypeDefKind::Type(ty) => {
                self.out.push(15);
                self.ty(ty);
            }
            TypeDefKind::Unknown => self.out.push(16),
        }
    }
}

/// Reads what [`Writer`] wrote, making each index an id of the arena of
/// the [`Resolve`] it was made for.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// The arena ids of the worlds, interfaces, types and packages.
    arenas: [u32; 4],
    /// The largest index read in each arena, checked against its length
    /// once everything is read.
    most: [Option<usize>; 4],
}

const WORLDS: usize = 0;
const INTERFACES: usize = 1;
const TYPES: usize = 2;
const PACKAGES: usize = 3;

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8], resolve: &Resolve) -> Self {
        Reader {
            bytes,
            pos: 0,
            arenas: [
                DefaultArenaBehavior::<World>::arena_id(resolve.worlds.next_id()),
                DefaultArenaBehavior::<Interface>::arena_id(resolve.interfaces.next_id()),
                DefaultArenaBehavior::<TypeDef>::arena_id(resolve.types.next_id()),
                DefaultArenaBehavior::<Package>::arena_id(resolve.packages.next_id()),
            ],
            most: [None; 4],
        }
    }

    fn byte(&mut self) -> Result<u8, Malformed> {
        let byte = *self.bytes.get(self.pos).ok_or("packed WIT is cut short")?;
        self.pos += 1;
        Ok(byte)
    }

    fn len(&mut self) -> Result<usize, Malformed> {
        let mut n = 0usize;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            n |= ((byte & 0x7f) as usize) << shift;
            if byte < 0x80 {
                return Ok(n);
            }
        }
        Err("packed WIT has a number too large".into())
    }

    fn bool(&mut self) -> Result<bool, Malformed> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(format!("packed WIT has {b} for a boolean")),
        }
    }

    fn str(&mut self) -> Result<String, Malformed> {
        let len = self.len()?;
        let end = self.pos.checked_add(len).filter(|&e| e <= self.bytes.len());
        let bytes = &self.bytes[self.pos..end.ok_or("packed WIT is cut short")?];
        self.pos += len;
        String::from_utf8(bytes.to_vec()).map_err(|_| "packed WIT has a name not UTF-8".into())
    }

    fn opt<T>(
        &mut self,
        each: impl FnOnce(&mut Self) -> Result<T, Malformed>,
    ) -> Result<Option<T>, Malformed> {
        Ok(match self.bool()? {
            true => Some(each(self)?),
            false => None,
        })
    }

    fn list<T>(
        &mut self,
        mut each: impl FnMut(&mut Self) -> Result<T, Malformed>,
    ) -> Result<Vec<T>, Malformed> {
        let len = self.len()?;
        // Not trusted for a capacity: each item takes a byte at least.
        let mut items = Vec::with_capacity(len.min(self.bytes.len() - self.pos));
        for _ in 0..len {
            items.push(each(self)?);
        }
        Ok(items)
    }

    fn opt_str(&mut self) -> Result<Option<String>, Malformed> {
        self.opt(Self::str)
    }

    fn version(&mut self) -> Result<Version, Malformed> {
        let text = self.str()?;
        Version::parse(&text).map_err(|e| format!("packed WIT has a bad version `{text}`: {e}"))
    }

    /// The index read, for the arena `space`.
    fn index(&mut self, space: usize) -> Result<(u32, usize), Malformed> {
        let index = self.len()?;
        self.most[space] = self.most[space].max(Some(index));
        Ok((self.arenas[space], index))
    }

    fn world_id(&mut self) -> Result<wit_parser::WorldId, Malformed> {
        let (arena, index) = self.index(WORLDS)?;
        Ok(DefaultArenaBehavior::<World>::new_id(arena, index))
    }

    fn interface_id(&mut self) -> Result<wit_parser::InterfaceId, Malformed> {
        let (arena, index) = self.index(INTERFACES)?;
        Ok(DefaultArenaBehavior::<Interface>::new_id(arena, index))
    }

    fn type_id(&mut self) -> Result<wit_parser::TypeId, Malformed> {
        let (arena, index) = self.index(TYPES)?;
        Ok(DefaultArenaBehavior::<TypeDef>::new_id(arena, index))
    }

    fn package_id(&mut self) -> Result<wit_parser::PackageId, Malformed> {
        let (arena, index) = self.index(PACKAGES)?;
        Ok(DefaultArenaBehavior::<Package>::new_id(arena, index))
    }

    fn package_name(&mut self) -> Result<PackageName, Malformed> {
        Ok(PackageName {
            namespace: self.str()?,
            name: self.str()?,
            version: self.opt(Self::version)?,
        })
    }

    fn stability(&mut self) -> Result<Stability, Malformed> {
        Ok(match self.byte()? {
            0 => Stability::Unknown,
            1 => Stability::Unstable {
                feature: self.str()?,
                deprecated: self.opt(Self::version)?,
            },
            2 => Stability::Stable {
                since: self.version()?,
                deprecated: self.opt(Self::version)?,
            },
            tag => return Err(format!("packed WIT has stability {tag}")),
        })
    }

    fn ty(&mut self) -> Result<Type, Malformed> {
        Ok(match self.byte()? {
            0 => Type::Bool,
            1 => Type::U8,
            2 => Type::U16,
            3 => Type::U32,
            4 => Type::U64,
            5 => Type::S8,
            6 => Type::S16,
            7 => Type::S32,
            8 => Type::S64,
            9 => Type::F32,
            10 => Type::F64,
            11 => Type::Char,
            12 => Type::String,
            13 => Type::ErrorContext,
            14 => Type::Id(self.type_id()?),
            tag => return Err(format!("packed WIT has type {tag}")),
        })
    }

    fn opt_ty(&mut self) -> Result<Option<Type>, Malformed> {
        self.opt(Self::ty)
    }

    fn world(&mut self) -> Result<World, Malformed> {
        let name = self.str()?;
        let mut items = [Default::default(), Default::default()];
        for side in &mut items {
            *side = self
                .list(|r| {
                    let key = match r.byte()? {
                        0 => WorldKey::Name(r.str()?),
                        1 => WorldKey::Interface(r.interface_id()?),
                        tag => return Err(format!("packed WIT has world key {tag}")),
                    };
                    Ok((key, r.world_item()?))
                })?
                .into_iter()
                .collect();
        }
        let [imports, exports] = items;
        Ok(World {
            name,
            imports,
            exports,
            package: self.opt(Self::package_id)?,
            docs: Docs::default(),
            stability: self.stability()?,
            includes: Vec::new(),
            span: Default::default(),
        })
    }

    fn world_item(&mut self) -> Result<WorldItem, Malformed> {
        Ok(match self.byte()? {
            0 => WorldItem::Interface {
                id: self.interface_id()?,
                stability: self.stability()?,
                external_id: self.opt_str()?,
                docs: Docs::default(),
                span: Default::default(),
            },
            1 => WorldItem::Function(self.function()?),
            2 => WorldItem::Type {
                id: self.type_id()?,
                span: Default::default(),
            },
            tag => return Err(format!("packed WIT has world item {tag}")),
        })
    }

    fn interface(&mut self) -> Result<Interface, Malformed> {
        Ok(Interface {
            name: self.opt_str()?,
            types: self
                .list(|r| Ok((r.str()?, r.type_id()?)))?
                .into_iter()
                .collect(),
            functions: self
                .list(|r| r.function().map(|f| (f.name.clone(), f)))?
                .into_iter()
                .collect(),
            docs: Docs::default(),
            stability: self.stability()?,
            package: self.opt(Self::package_id)?,
            span: Default::default(),
            clone_of: self.opt(Self::interface_id)?,
        })
    }

    fn function(&mut self) -> Result<Function, Malformed> {
        let name = self.str()?;
        let kind = match self.byte()? {
            0 => FunctionKind::Freestanding,
            1 => FunctionKind::AsyncFreestanding,
            2 => FunctionKind::Getter,
            3 => FunctionKind::Setter,
            4 => FunctionKind::Method(self.type_id()?),
            5 => FunctionKind::AsyncMethod(self.type_id()?),
            6 => FunctionKind::MethodGetter(self.type_id()?),
            7 => FunctionKind::MethodSetter(self.type_id()?),
            8 => FunctionKind::Static(self.type_id()?),
            9 => FunctionKind::AsyncStatic(self.type_id()?),
            10 => FunctionKind::StaticGetter(self.type_id()?),
            11 => FunctionKind::StaticSetter(self.type_id()?),
            12 => FunctionKind::Constructor(self.type_id()?),
            tag => return Err(format!("packed WIT has function kind {tag}")),
        };
        let params = self.list(|r| {
            Ok(Param {
                name: r.str()?,
                ty: r.ty()?,
                span: Default::default(),
            })
        })?;
        Ok(Function {
            name,
            kind,
            params,
            result: self.opt_ty()?,
            docs: Docs::default(),
            stability: self.stability()?,
            span: Default::default(),
            external_id: self.opt_str()?,
        })
    }

    fn type_def(&mut self) -> Result<TypeDef, Malformed> {
        let name = self.opt_str()?;
        let kind = self.type_kind()?;
        let owner = match self.byte()? {
            0 => TypeOwner::World(self.world_id()?),
            1 => TypeOwner::Interface(self.interface_id()?),
            2 => TypeOwner::None,
            tag => return Err(format!("packed WIT has type owner {tag}")),
        };
        Ok(TypeDef {
            name,
            kind,
            owner,
            docs: Docs::default(),
            stability: self.stability()?,
            span: Default::default(),
            external_id: self.opt_str()?,
        })
    }

    fn type_kind(&mut self) -> Result<TypeDefKind, Malformed> {
        let docs = Docs::default;
        let span = Default::default;
        Ok(match self.byte()? {
            0 => TypeDefKind::Record(wit_parser::Record {
                fields: self.list(|r| {
                    Ok(Field {
                        name: r.str()?,
                        ty: r.ty()?,
                        docs: docs(),
                        span: span(),
                    })
                })?,
            }),
            1 => TypeDefKind::Resource,
            2 => TypeDefKind::Handle(Handle::Own(self.type_id()?)),
            3 => TypeDefKind::Handle(Handle::Borrow(self.type_id()?)),
            4 => TypeDefKind::Flags(wit_parser::Flags {
                flags: self.list(|r| {
                    Ok(Flag {
                        name: r.str()?,
                        docs: docs(),
                        span: span(),
                    })
                })?,
            }),
            5 => TypeDefKind::Tuple(wit_parser::Tuple {
                types: self.list(Self::ty)?,
            }),
            6 => TypeDefKind::Variant(wit_parser::Variant {
                cases: self.list(|r| {
                    Ok(Case {
                        name: r.str()?,
                        ty: r.opt_ty()?,
                        docs: docs(),
                        span: span(),
                    })
                })?,
            }),
            7 => TypeDefKind::Enum(wit_parser::Enum {
                cases: self.list(|r| {
                    Ok(EnumCase {
                        name: r.str()?,
                        docs: docs(),
                        span: span(),
                    })
                })?,
            }),
            8 => TypeDefKind::Option(self.ty()?),
            9 => TypeDefKind::Result(wit_parser::Result_ {
                ok: self.opt_ty()?,
                err: self.opt_ty()?,
            }),
            10 => TypeDefKind::List(self.ty()?),
            11 => TypeDefKind::Map(self.ty()?, self.ty()?),
            12 => {
                let ty = self.ty()?;
                let n = u32::try_from(self.len()?).map_err(|_| "packed WIT has a list too long")?;
                TypeDefKind::FixedLengthList(ty, n)
            }
            13 => TypeDefKind::Future(self.opt_ty()?),
            14 => TypeDefKind::Stream(self.opt_ty()?),
            15 => TypeDefKind::Type(self.ty()?),
            16 => TypeDefKind::Unknown,
            tag => return Err(format!("packed WIT has type kind {tag}")),
        })
    }
}
