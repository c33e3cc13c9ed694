//! How the registry (`src/subsystem/registry.rs`) handles each
//! subsystem's setting, whatever its type: allowing, denying, and the
//! setting in words.

/// A subsystem's setting, as the registry (`src/subsystem/registry.rs`)
/// handles it.
pub trait Setting: Clone + 'static {
    /// Everything passes through to the host.
    fn allowing() -> Self;
    /// Nothing reaches the host.
    fn denying() -> Self;
    /// Whether the subsystem's single allow bit, if it has one, is set.
    fn allows(&self) -> bool;
    /// The setting in words, for the summary.
    fn describe(&self) -> String;
    /// What content (variables, files, properties) it gives the component,
    /// in words, if any.
    fn content(&self) -> Option<&'static str> {
        None
    }
}

/// `allowing`, `denying` and `allows` of a setting whose `Allow` and `Deny`
/// variants mean what they say.
macro_rules! allow_or_deny {
    ($ty:ident) => {
        fn allowing() -> Self {
            $ty::Allow
        }

        fn denying() -> Self {
            $ty::Deny
        }

        fn allows(&self) -> bool {
            *self == $ty::Allow
        }
    };
}

pub(crate) use allow_or_deny;
