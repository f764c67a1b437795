//! Relay's request signature (relay-auth `SecretKey::sign_with_header` and
//! `PublicKey::verify_timestamp`): the header is the JSON `{"t":"<RFC 3339 UTC>"}`;
//! Ed25519 signs the header's JSON bytes, a NUL byte and the body; the value sent is
//! `base64url(signature) "." base64url(header JSON)`, both without padding.

use std::time::SystemTime;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::Ed25519KeyPair;

use crate::secret::Secret;

/// The `X-Sentry-Relay-Signature` value for `body`, signed at `now` with the relay
/// secret key (relay's encoding: the 32-byte seed or the 64-byte seed + public key).
/// The key is only read here; it never leaves the process.
pub(crate) fn signature(
    secret_key: &Secret,
    body: &[u8],
    now: SystemTime,
) -> Result<String, String> {
    let pair = key_pair(secret_key)?;
    let header = format!(r#"{{"t":"{}"}}"#, crate::clock::format_timestamp(now));
    let mut signed = Vec::with_capacity(header.len() + 1 + body.len());
    signed.extend_from_slice(header.as_bytes());
    signed.push(0);
    signed.extend_from_slice(body);
    let sig = pair.sign(&signed);
    Ok(format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(sig.as_ref()),
        URL_SAFE_NO_PAD.encode(header.as_bytes())
    ))
}

fn key_pair(secret_key: &Secret) -> Result<Ed25519KeyPair, String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(secret_key.expose())
        .map_err(|_| "the relay secret key is not in relay's encoding".to_string())?;
    if bytes.len() != 32 && bytes.len() != 64 {
        return Err("the relay secret key is not 32 or 64 bytes".into());
    }
    Ed25519KeyPair::from_seed_unchecked(&bytes[..32])
        .map_err(|_| "the relay secret key is not an Ed25519 seed".to_string())
}

/// The public key (relay's encoding) of a secret key, as upstream will see it.
#[cfg(test)]
pub(crate) fn public_key_of(secret_key: &Secret) -> Result<String, String> {
    use ring::signature::KeyPair;
    Ok(URL_SAFE_NO_PAD.encode(key_pair(secret_key)?.public_key().as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    // Sentry's side (the stand-in upstream) judges what relay's side signs.
    use vfr_devserver::verify::{verify, VerifyError};

    #[test]
    fn signatures_verify_with_the_public_key_and_only_over_the_same_body() {
        let keys = crate::keys::generate().unwrap();
        let now = SystemTime::now();
        let sig = signature(&keys.secret_key, b"{\"a\":1}", now).unwrap();
        assert_eq!(public_key_of(&keys.secret_key).unwrap(), keys.public_key);
        let minute = Duration::from_secs(60);
        assert_eq!(
            verify(&keys.public_key, b"{\"a\":1}", &sig, minute, now),
            Ok(())
        );
        assert_eq!(
            verify(&keys.public_key, b"{\"a\":2}", &sig, minute, now),
            Err(VerifyError::BadSignature)
        );
        let other = crate::keys::generate().unwrap();
        assert_eq!(
            verify(&other.public_key, b"{\"a\":1}", &sig, minute, now),
            Err(VerifyError::BadSignature)
        );
        let later = now + Duration::from_secs(120);
        assert_eq!(
            verify(&keys.public_key, b"{\"a\":1}", &sig, minute, later),
            Err(VerifyError::Expired)
        );
        assert!(!sig.contains(keys.secret_key.expose()));
        let (_, header) = sig.split_once('.').unwrap();
        let header = String::from_utf8(URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
        assert!(
            header.starts_with("{\"t\":\"") && header.ends_with("Z\"}"),
            "{header}"
        );
    }

    #[test]
    fn the_64_byte_secret_form_signs_like_the_seed() {
        let keys = crate::keys::generate().unwrap();
        let mut long = URL_SAFE_NO_PAD.decode(keys.secret_key.expose()).unwrap();
        long.extend(URL_SAFE_NO_PAD.decode(&keys.public_key).unwrap());
        let long = Secret::new(URL_SAFE_NO_PAD.encode(long));
        let now = SystemTime::now();
        let sig = signature(&long, b"x", now).unwrap();
        assert_eq!(
            verify(&keys.public_key, b"x", &sig, Duration::from_secs(60), now),
            Ok(())
        );
        assert!(signature(&Secret::new("not base64!"), b"x", now).is_err());
    }
}
