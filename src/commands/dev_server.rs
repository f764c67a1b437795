//! `dev-server`: flags to the dev server's foreground runner.

use crate::cli::{or_alias, DevServerArgs};
use crate::exit::Exit;
use crate::settings::DEFAULT_SECRET_NAME;
use vfr_devserver::{self as devserver, RunOptions};

pub(crate) fn run(args: &DevServerArgs) -> anyhow::Result<Exit> {
    devserver::run(RunOptions {
        listen: std::net::SocketAddr::new(args.listen, args.port),
        seed: args.seed,
        seed_name: or_alias(args.secret_name.clone(), "WORKOS_VAULT_SECRET_NAME")
            .unwrap_or_else(|| DEFAULT_SECRET_NAME.into()),
        from_file: args.from_file.clone(),
        tls_cert: args.tls_cert.clone(),
        tls_key: args.tls_key.clone(),
        api_key: None,
        upstream: devserver::UpstreamSeed {
            trusted: args.trust_relay.clone(),
            dsn_keys: args.dsn_key.clone(),
            closed: args.closed_registration,
        },
        rate_limit: args.rate_limit,
    })?;
    Ok(Exit::Success)
}
