//! TLS for the dev server: a rustls server config (ring provider) from PEM text.

use std::sync::Arc;

use anyhow::{anyhow, Context};
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::TlsIdentity;

/// Build the server config. The chain is leaf first, as in any PEM bundle for a server.
pub(crate) fn server_config(id: &TlsIdentity) -> anyhow::Result<Arc<ServerConfig>> {
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(id.cert_chain_pem.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(|e| anyhow!("reading the TLS certificate chain PEM: {e:?}"))?;
    if certs.is_empty() {
        anyhow::bail!("the TLS certificate PEM holds no CERTIFICATE block");
    }
    // Error values can quote the PEM; report only their kind, never key material.
    let key = PrivateKeyDer::from_pem_slice(id.key_pem.as_bytes())
        .map_err(|_| anyhow!("the TLS key PEM holds no readable private key"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("configuring TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the TLS certificate and key do not form a usable identity")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
