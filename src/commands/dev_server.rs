//! `dev-server`: flags to the dev server's foreground runner.

use crate::cli::DevServerArgs;
use crate::devserver::{self, RunOptions};

pub fn run(args: &DevServerArgs) -> anyhow::Result<u8> {
    devserver::run(RunOptions {
        listen: std::net::SocketAddr::new(args.listen, args.port),
        seed: args.seed,
        from_file: args.from_file.clone(),
        tls_cert: args.tls_cert.clone(),
        tls_key: args.tls_key.clone(),
        api_key: None,
    })?;
    Ok(0)
}
