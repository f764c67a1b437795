//! TLS for every client: our rustls configuration (the Mozilla roots as webpki trust
//! anchors plus an optional PEM bundle), plugged into ureq's connector chain.
//!
//! ureq 3 builds its own rustls configuration from a list of root *certificates*; the
//! Mozilla set in that form (`webpki-root-certs`) would add ~120 KiB to the binary, be
//! parsed on every run, and lose the name constraint Mozilla puts on one root (webpki-roots
//! carries it). So the handshake runs here, on ureq's transport API (`unversioned`, exempt
//! from semver: Cargo.toml pins ureq exactly, and transport.rs's `ureq_contract` tests
//! are what a new ureq must pass).

use std::fmt;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context};
use rustls::{ClientConnection, RootCertStore, StreamOwned};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport,
    TransportAdapter,
};

/// rustls client configuration trusting the Mozilla roots and, when given, every
/// certificate in `extra_ca_file` (corporate TLS-inspecting proxies, private CAs).
pub(crate) fn build_tls_config(
    extra_ca_file: Option<&Path>,
) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = extra_ca_file {
        // System bundles are a few hundred KiB; 16 MiB is generous and still bounded.
        let pem = crate::files::read_input(
            path,
            16 * 1024 * 1024,
            "the CA bundle (--ca-file / SSL_CERT_FILE)",
        )?;
        let mut added = 0usize;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.with_context(|| {
                format!(
                    "CA bundle {} is not valid PEM; expected BEGIN CERTIFICATE blocks",
                    path.display()
                )
            })?;
            roots.add(cert).with_context(|| {
                format!(
                    "CA bundle {} holds a certificate rustls cannot use as a trust anchor",
                    path.display()
                )
            })?;
            added += 1;
        }
        if added == 0 {
            bail!(
                "CA bundle {} holds no certificates; expected PEM BEGIN CERTIFICATE blocks",
                path.display()
            );
        }
        log::debug!(
            "trusting {added} extra CA certificate(s) from {}",
            path.display()
        );
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS setup failed: no usable protocol versions")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The link of the connector chain that wraps an `https` connection (direct or through a
/// CONNECT tunnel) in TLS with our configuration.
pub(crate) struct TlsConnector(pub Arc<rustls::ClientConfig>);

impl fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsConnector")
    }
}

impl<In: Transport> Connector<In> for TlsConnector {
    type Out = Either<In, TlsTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Ok(None);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let host = details
            .uri
            .host()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let name = ServerName::try_from(host.to_string())
            .map_err(|_| ureq::Error::Tls("the api host is not a valid TLS server name"))?;
        let mut conn = ClientConnection::new(self.0.clone(), name)
            .map_err(|e| ureq::Error::Other(Box::new(e)))?;
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        sock.set_timeout(details.timeout);
        conn.complete_io(&mut sock)?;
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        Ok(Some(Either::B(TlsTransport {
            buffers,
            stream: StreamOwned::new(conn, sock),
        })))
    }
}

pub(crate) struct TlsTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsTransport")
    }
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        self.stream.write_all(&self.buffers.output()[..amount])?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let amount = self.stream.read(self.buffers.input_append_buf())?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

/// The rustls error behind a failed request, if the handshake (or a record) failed.
pub(crate) fn tls_error(e: &ureq::Error) -> Option<&rustls::Error> {
    let inner: &(dyn std::error::Error + 'static) = match e {
        ureq::Error::Other(inner) => inner.as_ref(),
        ureq::Error::Io(io) => io.get_ref()?,
        _ => return None,
    };
    inner.downcast_ref::<rustls::Error>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_ca_files_are_explained() {
        let dir = std::env::temp_dir().join(format!("vfr-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "nothing here").unwrap();
        let e = build_tls_config(Some(&empty)).unwrap_err().to_string();
        assert!(e.contains("holds no certificates"), "{e}");
        let e = build_tls_config(Some(&dir.join("missing.pem")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot read the CA bundle"), "{e}");
        assert!(build_tls_config(None).is_ok());
    }
}
