//! The embedded tree's path resolution (`crates/layout/src/path.rs`, the
//! code the adapter walks its tree with), compiled for the host, over
//! arbitrary trees and paths resolved from arbitrary directories, as a
//! descriptor opened on a subdirectory resolves them. The tree is encoded
//! and decoded as the adapter's configuration is, and every answer must
//! equal a plain model's: a walk by names over the tree as nested maps that
//! never climbs above the directory it starts from, with a linear lookup
//! where the adapter searches sorted children. The node the adapter reaches
//! must be the one the model's names lead to. Trees hold symbolic links
//! too; the model follows one by rewriting the rest of the path as the
//! link's target followed by what came after it, where the adapter keeps a
//! stack of components.
#![no_main]

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use wasi_virt_layout::path::{stat_retry, PathError, Walk, MAX_EXPANSIONS};
use wasi_virt_layout::{encode, Config, ConfigSpec, Fs, FsSpec, NodeKind, NodeSpec, NAME_MAX};

#[derive(Debug)]
enum Entry {
    File,
    Dir(BTreeMap<String, Entry>),
    /// A symbolic link, with its target.
    Link(String),
}

/// A link's target: names, `.` and `..`, now and then absolute or with a
/// trailing slash; never empty or holding a NUL, as a host's `readlink`
/// never gives one.
fn target(u: &mut Unstructured) -> Result<String> {
    let mut parts = Vec::new();
    for _ in 0..u.int_in_range(1..=4u8)? {
        parts.push(match u.int_in_range(0..=5)? {
            0 => ".".into(),
            1 | 2 => "..".into(),
            _ => name(u)?,
        });
    }
    let mut target = parts.join("/");
    if u.ratio(1, 10)? {
        target.insert(0, '/');
    }
    if u.ratio(1, 6)? {
        target.push('/');
    }
    Ok(target)
}

/// Names a tree may hold: ordinary, dotted, spaced, non-ASCII, at and near
/// the length limit. Never empty, `.`, `..`, with `/` or NUL, or longer
/// than `NAME_MAX` bytes: `src/adapter/mount_tree.rs` refuses those in any tree.
fn name(u: &mut Unstructured) -> Result<String> {
    Ok(match u.int_in_range(0..=9)? {
        0 => "a".into(),
        1 => "b.txt".into(),
        2 => ".hidden".into(),
        3 => "...".into(),
        4 => "with space".into(),
        5 => "é".into(),
        6 => "a".repeat(NAME_MAX),
        7 => "->".into(),
        8 => format!("n{}", u.int_in_range(0..=20u8)?),
        _ => {
            let s: String = u.arbitrary()?;
            let mut s: String = s.chars().filter(|c| *c != '/' && *c != '\0').collect();
            while s.len() > NAME_MAX {
                s.pop();
            }
            if s.is_empty() || s == "." || s == ".." {
                "x".into()
            } else {
                s
            }
        }
    })
}

fn tree(u: &mut Unstructured, depth: u32) -> Result<BTreeMap<String, Entry>> {
    let mut dir = BTreeMap::new();
    for _ in 0..u.int_in_range(0..=6u8)? {
        let entry = match u.int_in_range(0..=5u8)? {
            0 | 1 if depth < 4 => Entry::Dir(tree(u, depth + 1)?),
            2 | 3 => Entry::Link(target(u)?),
            _ => Entry::File,
        };
        dir.insert(name(u)?, entry);
    }
    Ok(dir)
}

/// The tree as layout nodes, breadth first: each directory's children
/// consecutive and sorted by name, as `src/adapter/mount_tree.rs` lays them out.
fn nodes(root: &BTreeMap<String, Entry>) -> Vec<NodeSpec<'_>> {
    let mut out = vec![NodeSpec {
        name: "",
        kind: NodeKind::Dir { first: 0, count: 0 },
    }];
    let mut queue = vec![(0usize, root)];
    while let Some((at, dir)) = queue.pop() {
        let first = out.len() as u32;
        out[at].kind = NodeKind::Dir {
            first,
            count: dir.len() as u32,
        };
        for (name, entry) in dir {
            let kind = match entry {
                Entry::Link(target) => NodeKind::Link(target),
                _ => NodeKind::File {
                    segment: 0,
                    offset: 0,
                    len: 0,
                },
            };
            if let Entry::Dir(sub) = entry {
                queue.push((out.len(), sub));
            }
            out.push(NodeSpec { name, kind });
        }
    }
    out
}

/// The model: a walk by names, from the directory `from` (names from the
/// root), as a host walks from a descriptor on it: `..` never climbs above
/// `from` (`not-permitted`), whatever the path does before it. A link met
/// with more of the path after it (a name or a slash), or last with
/// `follow`, is replaced in the path by its target; an absolute target is
/// `not-permitted`, more than [`MAX_EXPANSIONS`] of them `loop`, and so is
/// `..` above `from` after more than half that many.
fn model(
    root: &Entry,
    from: &[String],
    path: &str,
    follow: bool,
) -> Result<Vec<String>, PathError> {
    if path.contains('\0') {
        return Err(PathError::Invalid);
    }
    if path.is_empty() {
        return Err(PathError::NoEntry);
    }
    if path.starts_with('/') {
        return Err(PathError::NotPermitted);
    }
    let at = |names: &[String]| -> &Entry {
        names.iter().fold(root, |e, n| match e {
            Entry::Dir(d) => d.iter().find(|(k, _)| *k == n).map(|(_, v)| v).unwrap(),
            _ => unreachable!("a walk only enters directories"),
        })
    };
    let mut names = from.to_vec();
    let mut rest = path.to_string();
    let mut expansions = 0;
    loop {
        let trimmed = rest.trim_start_matches('/');
        let Entry::Dir(dir) = at(&names) else {
            // A name followed by a slash (or more) that is no directory.
            return match rest.is_empty() {
                true => Ok(names),
                false => Err(PathError::NotDirectory),
            };
        };
        if trimmed.is_empty() {
            return Ok(names);
        }
        let (part, tail) = trimmed.split_at(trimmed.find('/').unwrap_or(trimmed.len()));
        let tail = tail.to_string();
        match part {
            "." => {}
            // Linux counts the links twice on such a path (see
            // `crates/layout/src/path.rs`).
            ".." if names.len() == from.len() && 2 * expansions > MAX_EXPANSIONS => {
                return Err(PathError::Loop)
            }
            ".." if names.len() == from.len() => return Err(PathError::NotPermitted),
            ".." => {
                names.pop();
            }
            _ if part.len() > NAME_MAX => return Err(PathError::NameTooLong),
            _ => match dir.iter().find(|(k, _)| *k == part).map(|(_, v)| v) {
                None => return Err(PathError::NoEntry),
                Some(Entry::Link(target)) if follow || !tail.is_empty() => {
                    expansions += 1;
                    if expansions > MAX_EXPANSIONS {
                        return Err(PathError::Loop);
                    }
                    if target.starts_with('/') {
                        return Err(PathError::NotPermitted);
                    }
                    rest = format!("{target}{tail}");
                    continue;
                }
                Some(_) => names.push(part.to_string()),
            },
        }
        rest = tail;
    }
}

/// Every path to a directory in the tree, as names from the root.
fn directories(dir: &BTreeMap<String, Entry>, here: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(here.clone());
    for (name, entry) in dir {
        if let Entry::Dir(sub) = entry {
            here.push(name.clone());
            directories(sub, here, out);
            here.pop();
        }
    }
}

/// The node that `names` lead to from the root of the decoded tree, by a
/// linear search of each directory's children (the adapter's walk searches
/// them by halves).
fn node_at(fs: &Fs<'_>, names: &[String]) -> u32 {
    names.iter().fold(0, |at, name| {
        let NodeKind::Dir { first, count } = fs.node(at).unwrap().kind else {
            panic!("{names:?} passes through a file");
        };
        (first..first + count)
            .find(|&i| fs.node(i).unwrap().name == name)
            .unwrap_or_else(|| panic!("{names:?}: no `{name}`"))
    })
}

/// A path drawn to be awkward: names from the tree and outside it, `.`,
/// `..`, empty components, a NUL, too-long names, leading and trailing
/// slashes.
fn path(u: &mut Unstructured, known: &[&str]) -> Result<String> {
    let mut parts = Vec::new();
    for _ in 0..u.int_in_range(0..=8u8)? {
        parts.push(match u.int_in_range(0..=9)? {
            0..=3 if !known.is_empty() => known[u.choose_index(known.len())?].to_string(),
            4 => ".".into(),
            5 => "..".into(),
            6 => String::new(),
            7 => "a".repeat(NAME_MAX + 1),
            8 => "mis\0sing".into(),
            _ => name(u)?,
        });
    }
    let mut path = parts.join("/");
    if u.ratio(1, 8)? {
        path.insert(0, '/');
    }
    if u.ratio(1, 4)? {
        path.push('/');
    }
    if u.ratio(1, 8)? {
        path.push_str("/.");
    }
    Ok(path)
}

fn run(u: &mut Unstructured) -> Result<()> {
    let root = Entry::Dir(tree(u, 0)?);
    let Entry::Dir(top) = &root else {
        unreachable!()
    };
    let spec = ConfigSpec {
        fs: FsSpec {
            preopens: vec![("/", 0)],
            nodes: nodes(top),
            ..Default::default()
        },
        ..Default::default()
    };
    let bytes = encode(&spec);
    let config = Config::parse(&bytes).expect("an encoded tree decodes");
    let fs = config.fs;
    let walk = Walk {
        node: |i| {
            fs.node(i)
                .expect("a validated tree holds every index it names")
        },
    };
    let mut dirs = Vec::new();
    directories(top, &mut Vec::new(), &mut dirs);
    let mut names: Vec<&str> = dirs.iter().flatten().map(String::as_str).collect();
    names.extend(top.keys().map(String::as_str));
    for _ in 0..u.int_in_range(1..=16u8)? {
        let from = &dirs[u.choose_index(dirs.len())?];
        let start = node_at(&fs, from);
        let path = path(u, &names)?;
        let follow = u.arbitrary()?;
        let got = walk.resolve_at(start, &path, follow);
        let want = model(&root, from, &path, follow);
        match (&got, &want) {
            (Ok(got), Ok(want)) => assert_eq!(
                *got,
                node_at(&fs, want),
                "`{path}` from {from:?} reached another node"
            ),
            (Err(g), Err(w)) => assert_eq!(g, w, "`{path}` from {from:?}"),
            _ => panic!("`{path}` from {from:?}: adapter {got:?}, model {want:?}"),
        }
        let stat = walk.resolve_for_stat(start, &path, follow);
        let want_stat = match stat_retry(&path) {
            Some(base) if !follow => model(&root, from, base, false),
            _ => want,
        };
        match (stat, want_stat) {
            (Ok(got), Ok(want)) => assert_eq!(got, node_at(&fs, &want), "stat-at `{path}`"),
            (got, want) => assert_eq!(got.err(), want.err(), "stat-at `{path}` from {from:?}"),
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});
