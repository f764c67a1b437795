//! Relay key handling: the encoding relay uses, the Ed25519 pair check and key generation.
//!
//! Relay encodes keys as URL-safe base64 without padding: a public key is 32 bytes
//! (43 characters); a secret key is the 32-byte seed (43 characters) or the legacy
//! 64-byte seed+public form (86 characters).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{Ed25519KeyPair, KeyPair};

use crate::secret::Secret;

/// Why a key or a key pair is not acceptable. Messages never include key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    BadEncoding(&'static str),
    BadLength { field: &'static str, len: usize },
    PairMismatch,
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyError::BadEncoding(field) => write!(
                f,
                "{field} is not URL-safe base64 without padding (relay rejects '+', '/' and '=')"
            ),
            KeyError::BadLength { field, len } => {
                write!(f, "{field} decodes to {len} bytes; relay expects {}", expected_len(field))
            }
            KeyError::PairMismatch => f.write_str(
                "public_key does not belong to secret_key (the Ed25519 public key derived from the secret differs)",
            ),
        }
    }
}

fn expected_len(field: &str) -> &'static str {
    if field == "public_key" {
        "32"
    } else {
        "32 (seed) or 64 (seed + public key)"
    }
}

impl std::error::Error for KeyError {}

fn decode(field: &'static str, text: &str) -> Result<Vec<u8>, KeyError> {
    // The engine rejects padding and the standard alphabet, as relay does.
    URL_SAFE_NO_PAD
        .decode(text.as_bytes())
        .map_err(|_| KeyError::BadEncoding(field))
}

/// Check that both keys are in relay's encoding and that the public key is the one
/// derived from the secret key. Relay itself never checks the pair; a mismatch only
/// shows up later when relay registers upstream, so this is the early warning.
pub fn check_pair(public_key: &str, secret_key: &Secret) -> Result<(), KeyError> {
    let public = decode("public_key", public_key)?;
    if public.len() != 32 {
        return Err(KeyError::BadLength {
            field: "public_key",
            len: public.len(),
        });
    }
    let secret = decode("secret_key", secret_key.expose())?;
    let seed = match secret.len() {
        32 => &secret[..],
        64 => {
            if secret[32..] != public[..] {
                return Err(KeyError::PairMismatch);
            }
            &secret[..32]
        }
        len => {
            return Err(KeyError::BadLength {
                field: "secret_key",
                len,
            })
        }
    };
    Ed25519KeyPair::from_seed_and_public_key(seed, &public)
        .map(|_| ())
        .map_err(|_| KeyError::PairMismatch)
}

/// Short fingerprint of a public key for operator reports: `SHA256:` and the first 16
/// hex digits of the digest of the key's encoding (comparable across tools with
/// `printf %s KEY | sha256sum`).
pub fn fingerprint(public_key: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, public_key.as_bytes());
    format!("SHA256:{}", hex(&digest.as_ref()[..8]))
}

/// A freshly generated relay key pair in relay's encoding.
pub struct GeneratedKeys {
    pub public_key: String,
    pub secret_key: Secret,
}

/// Generate an Ed25519 key pair the way relay does (random 32-byte seed).
pub fn generate() -> anyhow::Result<GeneratedKeys> {
    let rng = SystemRandom::new();
    let mut seed = [0u8; 32];
    rng.fill(&mut seed)
        .map_err(|_| anyhow::anyhow!("the system random number generator failed"))?;
    let pair = Ed25519KeyPair::from_seed_unchecked(&seed)
        .map_err(|_| anyhow::anyhow!("could not derive an Ed25519 key pair from the seed"))?;
    Ok(GeneratedKeys {
        public_key: URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
        secret_key: Secret::new(URL_SAFE_NO_PAD.encode(seed)),
    })
}

/// A random version-4 UUID in relay's lowercase hyphenated form.
pub fn generate_uuid() -> String {
    let mut b = random_bytes::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// True when `s` is a UUID in hyphenated form (either case), as relay's ids are.
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Lowercase hex of `bytes` (ids, fingerprints, temp-file tags).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Random bytes for jitter, ids, tokens and temp file names (never key material:
/// `generate` reports an entropy failure instead).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // SystemRandom only fails when the OS has no entropy source; zeros keep jitter and
    // ids working rather than aborting a fetch over it.
    let _ = SystemRandom::new().fill(&mut b);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_pairs_check_out_in_both_secret_forms() {
        let k = generate().unwrap();
        assert_eq!(k.public_key.len(), 43);
        assert_eq!(k.secret_key.expose().len(), 43);
        check_pair(&k.public_key, &k.secret_key).unwrap();

        let mut legacy = URL_SAFE_NO_PAD.decode(k.secret_key.expose()).unwrap();
        legacy.extend(URL_SAFE_NO_PAD.decode(&k.public_key).unwrap());
        let legacy = Secret::new(URL_SAFE_NO_PAD.encode(&legacy));
        assert_eq!(legacy.expose().len(), 86);
        check_pair(&k.public_key, &legacy).unwrap();
    }

    #[test]
    fn mismatched_pairs_and_bad_encodings_are_rejected() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_eq!(
            check_pair(&a.public_key, &b.secret_key),
            Err(KeyError::PairMismatch)
        );
        let padded = format!("{}=", a.public_key);
        assert_eq!(
            check_pair(&padded, &a.secret_key),
            Err(KeyError::BadEncoding("public_key"))
        );
        let std_alphabet = a.public_key.replace('-', "+").replace('_', "/");
        if std_alphabet != a.public_key {
            assert!(check_pair(&std_alphabet, &a.secret_key).is_err());
        }
        assert!(matches!(
            check_pair("AAAA", &a.secret_key),
            Err(KeyError::BadLength {
                field: "public_key",
                len: 3
            })
        ));
    }

    #[test]
    fn hex_is_lowercase_and_padded() {
        assert_eq!(hex(&[0x0a, 0xff, 0x00]), "0aff00");
    }

    #[test]
    fn fingerprints_match_sha256sum() {
        // printf %s abc | sha256sum -> ba7816bf8f01cfea...
        assert_eq!(fingerprint("abc"), "SHA256:ba7816bf8f01cfea");
    }

    #[test]
    fn uuids_are_generated_and_recognised() {
        let u = generate_uuid();
        assert!(is_uuid(&u), "{u}");
        assert_eq!(&u[14..15], "4");
        assert!(is_uuid("A1B2C3D4-E5F6-7890-ABCD-EF1234567890"));
        assert!(!is_uuid("a1b2c3d4e5f67890abcdef1234567890"));
        assert!(!is_uuid("g1b2c3d4-e5f6-7890-abcd-ef1234567890"));
        assert!(!is_uuid(""));
    }
}
