//! Tables of cases in the layout's tests: every row is checked, and a
//! failure names every failing row, not only the first.

use std::fmt::Debug;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `check` on every row; then, if some failed, fails naming each (the
/// message of each failure is printed above, as it happens).
pub fn every_row<T: Debug>(rows: &[T], mut check: impl FnMut(&T)) {
    let mut failed = Vec::new();
    for row in rows {
        if catch_unwind(AssertUnwindSafe(|| check(row))).is_err() {
            failed.push(format!("{row:?}"));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} rows failed:\n{}",
        failed.len(),
        rows.len(),
        failed.join("\n")
    );
}
