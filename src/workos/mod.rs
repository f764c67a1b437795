//! The WorkOS Vault client: one agent, read an object by name, classify every answer.
//! Front ends never see HTTP; they get a `VaultObject` or a `VaultError`.

mod client;

pub(crate) use client::VaultClient;

/// The parts of a WorkOS Vault object we use. `value` holds the credentials document.
#[derive(Debug, Clone)]
pub(crate) struct VaultObject {
    pub value: crate::secret::Secret,
    pub version_id: Option<String>,
    pub updated_at: Option<String>,
    pub request_id: Option<String>,
}

/// Why a read did not produce an object. Callers branch on `kind`; `detail` is one
/// line for the user and never contains the API key or the object's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VaultError {
    pub kind: VaultErrorKind,
    pub detail: String,
    /// WorkOS's X-Request-ID, what WorkOS support asks for.
    pub request_id: Option<String>,
    /// The run's deadline ended the retries (a longer deadline might have helped).
    pub deadline_reached: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VaultErrorKind {
    NotFound,
    Unauthorized,
    Forbidden,
    /// The server at the api base answered "not found", but not as WorkOS Vault does
    /// (a 404 without Vault's `error` body): a configuration error, not a missing secret.
    WrongApiBase,
    /// Network, TLS, timeouts, throttling or server errors after retries, or an answer
    /// that is not WorkOS Vault's.
    Unavailable,
}

impl VaultError {
    pub(crate) fn new(
        kind: VaultErrorKind,
        detail: impl Into<String>,
        request_id: Option<String>,
    ) -> Self {
        VaultError {
            kind,
            detail: detail.into(),
            request_id,
            deadline_reached: false,
        }
    }

    pub(crate) fn unavailable(detail: impl Into<String>) -> Self {
        VaultError::new(VaultErrorKind::Unavailable, detail, None)
    }
}

impl crate::http::Failure for VaultError {
    fn deadline_reached() -> Self {
        VaultError {
            deadline_reached: true,
            ..VaultError::unavailable("run deadline reached")
        }
    }

    /// An answer whose framing cannot be trusted: unavailable at once, never retried.
    fn not_http(detail: String) -> Self {
        VaultError::unavailable(detail)
    }

    fn detail(&self) -> &str {
        &self.detail
    }

    fn annotate(mut self, note: &str, deadline: bool) -> Self {
        self.detail = format!("{} ({note})", self.detail);
        self.deadline_reached |= deadline;
        self
    }
}
