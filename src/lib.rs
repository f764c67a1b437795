//! vault-fetch-relay: fetch Sentry Relay credentials from WorkOS Vault and render them
//! for one deployment target. Data flows one way:
//! settings -> fetch (WorkOS client) -> Report (credentials or a status) -> render.

pub mod cli;
pub mod commands;
pub mod console;
pub mod credentials;
pub mod demo;
pub mod devserver;
pub mod fetch;
pub mod files;
pub mod interrupt;
pub mod keys;
pub mod logging;
pub mod query;
pub mod render;
pub mod secret;
pub mod settings;
pub mod workos;
