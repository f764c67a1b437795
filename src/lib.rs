//! vault-fetch-relay: fetch Sentry Relay credentials from WorkOS Vault and render them
//! for one deployment target. Data flows one way:
//! settings -> fetch (WorkOS client) -> Outcome -> render for one target.

pub mod devserver;
pub mod keys;
pub mod secret;
