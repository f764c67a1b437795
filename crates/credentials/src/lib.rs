//! What vault-fetch-relay and its WorkOS Vault + Sentry stand-ins (`vfr-devserver`) both need:
//! the relay credentials document, relay key handling, a secret that never prints, and
//! WorkOS-shaped timestamps. Both crates depend on this one, so neither depends on the
//! other's internals (Cargo refuses a crate cycle; ripgrep's `grep-*` crates are the model).
//!
//! The product re-exports these modules (`vault_fetch_relay::credentials`, `::keys`,
//! `::secret`), so its public paths are unchanged.

pub mod clock;
pub mod credentials;
pub mod keys;
pub mod secret;

/// The WorkOS Vault object the product reads by default, and the dev server seeds.
pub const DEFAULT_SECRET_NAME: &str = "runlayer-sentry-credentials";
