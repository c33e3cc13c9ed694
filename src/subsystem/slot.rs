//! A subsystem's slot in a [`Policy`]: how the registry reads and writes
//! each subsystem's setting, whatever its type.

use crate::policy::network::NetworkPolicy;
use crate::policy::{Access, Policy, Setting};

/// Reads and writes one subsystem's slot of a [`Policy`], whatever its type.
pub trait Slot {
    /// Whether the policy configures (virtualizes) the subsystem.
    fn configured(&self, policy: &Policy) -> bool;
    /// Sets the subsystem to allow or deny everything.
    fn set(&self, policy: &mut Policy, allow: bool);
    /// Takes the subsystem's setting from `from`, if it has one.
    fn overlay(&self, policy: &mut Policy, from: &Policy);
    /// Whether the subsystem's allow bit in the layout is set.
    fn allows(&self, policy: &Policy) -> bool;
    /// The setting in words, for the summary.
    fn describe(&self, policy: &Policy) -> String;
    /// What content the setting gives the component, in words, if any.
    fn content(&self, policy: &Policy) -> Option<&'static str>;
    /// Whether the setting is exactly what allowing the subsystem gives
    /// (`--allow-stdio`): a plain pass-through to the host, with no rule,
    /// filter, content or virtual source, which the adapter need not carry.
    fn passes_through(&self, policy: &Policy) -> bool;
}

/// A slot holding `Option<T>`: absent is "not virtualized", which passes
/// everything through and is described as allowing.
pub struct Field<T: 'static> {
    /// The slot, to read.
    pub get: fn(&Policy) -> &Option<T>,
    /// The slot, to write.
    pub get_mut: fn(&mut Policy) -> &mut Option<T>,
}

impl<T: Setting + PartialEq> Slot for Field<T> {
    fn configured(&self, policy: &Policy) -> bool {
        (self.get)(policy).is_some()
    }

    fn set(&self, policy: &mut Policy, allow: bool) {
        *(self.get_mut)(policy) = Some(if allow { T::allowing() } else { T::denying() });
    }

    fn overlay(&self, policy: &mut Policy, from: &Policy) {
        if let Some(setting) = (self.get)(from) {
            *(self.get_mut)(policy) = Some(setting.clone());
        }
    }

    fn allows(&self, policy: &Policy) -> bool {
        (self.get)(policy).as_ref().is_none_or(T::allows)
    }

    fn describe(&self, policy: &Policy) -> String {
        match (self.get)(policy) {
            Some(setting) => setting.describe(),
            None => T::allowing().describe(),
        }
    }

    fn content(&self, policy: &Policy) -> Option<&'static str> {
        (self.get)(policy).as_ref().and_then(T::content)
    }

    fn passes_through(&self, policy: &Policy) -> bool {
        (self.get)(policy)
            .as_ref()
            .is_some_and(|s| *s == T::allowing())
    }
}

/// What [`Slot::content`] says of a subsystem that network rules grant in
/// part.
pub const NETWORK_RULES: &str = "network rules";

/// Sockets or HTTP: allowed or denied as a whole, or granted in part by the
/// policy's network rules, which deny everything they do not grant.
pub struct Networked {
    /// The subsystem's allow-or-deny slot.
    pub access: Field<Access>,
    /// Whether the network rules grant part of the subsystem.
    pub granted: fn(&NetworkPolicy) -> bool,
}

impl Networked {
    fn ruled(&self, policy: &Policy) -> bool {
        policy.network.as_ref().is_some_and(self.granted)
    }
}

impl Slot for Networked {
    fn configured(&self, policy: &Policy) -> bool {
        self.access.configured(policy) || self.ruled(policy)
    }

    fn set(&self, policy: &mut Policy, allow: bool) {
        self.access.set(policy, allow);
    }

    fn overlay(&self, policy: &mut Policy, from: &Policy) {
        // The rules themselves are merged once, by `Policy::overlay`.
        self.access.overlay(policy, from);
    }

    fn allows(&self, policy: &Policy) -> bool {
        self.access.allows(policy) || self.ruled(policy)
    }

    fn describe(&self, policy: &Policy) -> String {
        if self.ruled(policy) {
            "the network rules below; nothing else".to_string()
        } else {
            self.access.describe(policy)
        }
    }

    fn content(&self, policy: &Policy) -> Option<&'static str> {
        self.ruled(policy).then_some(NETWORK_RULES)
    }

    /// Allowed whole, with no rule granting part of it.
    fn passes_through(&self, policy: &Policy) -> bool {
        self.access.passes_through(policy) && !self.ruled(policy)
    }
}
