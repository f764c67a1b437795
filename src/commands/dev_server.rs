//! `dev-server`: flags to the dev server's foreground runner.

use crate::cli::{CommonArgs, DevServerArgs};
use crate::devserver::{self, RunOptions};
use crate::exit::Exit;
use crate::settings::{non_empty, DEFAULT_SECRET_NAME};

pub(crate) fn run(common: &CommonArgs, args: &DevServerArgs) -> anyhow::Result<Exit> {
    devserver::run(RunOptions {
        listen: std::net::SocketAddr::new(args.listen, args.port),
        seed: args.seed,
        seed_name: non_empty(common.secret_name.clone())
            .unwrap_or_else(|| DEFAULT_SECRET_NAME.into()),
        from_file: args.from_file.clone(),
        tls_cert: args.tls_cert.clone(),
        tls_key: args.tls_key.clone(),
        api_key: None,
    })?;
    Ok(Exit::Success)
}
