//! A mounted file swapped for a link to outside the mount, over and over,
//! while the mount is virtualized: the walk checks the tree, and the write
//! reads each file again, so a swap in between must fail the run, never
//! embed what the link points to (src/adapter/mount_tree/host.rs).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use wasi_virt::WasiVirt;

/// The file's two contents, of the same size, so that a size check alone
/// cannot tell them apart.
const INSIDE: &[u8] = b"inside-the-mount-0123456789";
const OUTSIDE: &[u8] = b"OUTSIDE-THE-MOUNT-SECRET-99";

/// Swaps `mount/a.txt` between a file of [`INSIDE`] and a link to
/// `outside/secret` until `stop`; the new entry is made in `outside` and
/// renamed over, so that the mount never holds anything else.
fn swap_until(stop: &AtomicBool, mount: &Path, outside: &Path) {
    let target = mount.join("a.txt");
    while !stop.load(Ordering::Relaxed) {
        let link = outside.join("link");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(outside.join("secret"), &link).unwrap();
        std::fs::rename(&link, &target).unwrap();
        let file = outside.join("file");
        std::fs::write(&file, INSIDE).unwrap();
        std::fs::rename(&file, &target).unwrap();
    }
}

fn holds(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_file_swapped_for_a_link_out_is_never_embedded() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), OUTSIDE).unwrap();
    let mount = tempfile::tempdir().unwrap();
    std::fs::write(mount.path().join("a.txt"), INSIDE).unwrap();
    std::fs::write(mount.path().join("b.txt"), "another file\n").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (stop, mount, outside) = (
            stop.clone(),
            mount.path().to_path_buf(),
            outside.path().to_path_buf(),
        );
        std::thread::spawn(move || swap_until(&stop, &mount, &outside))
    };
    let (mut written, mut refused) = (0, 0);
    for _ in 0..40 {
        let mut virt = WasiVirt::new();
        virt.fs()
            .deny_host_preopens()
            .virtual_preopen("/m", mount.path());
        match virt.finish() {
            Ok(out) => {
                assert!(
                    !holds(&out.bytes, OUTSIDE),
                    "the output embeds a file from outside the mount"
                );
                assert!(holds(&out.bytes, INSIDE), "the output lacks the file");
                written += 1;
            }
            Err(e) => {
                let e = format!("{e:#}");
                let expected = ["changed since the mount was walked", "points outside"];
                assert!(expected.iter().any(|x| e.contains(x)), "{e}");
                refused += 1;
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    eprintln!("{written} written, {refused} refused");
}
