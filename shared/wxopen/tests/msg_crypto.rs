//! Message crypto: round trips over every pad length, real-format keys, tampering, AppID and
//! key-rotation handling, and vectors made by an independent implementation (wechatpy).

use wxopen::msg_crypto::{signature, CryptoError, EncodingAesKey, MsgCrypto};
use wxopen_models::events::EncryptedEnvelope;
use wxopen_models::{ComponentAppid, Secret};

/// 43 characters; 'G' (0b000110) leaves non-zero trailing bits, as real keys usually do.
const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const OTHER_KEY: &str = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut";
const APPID: &str = "wx1234567890abcdef";

fn codec(key: &str, previous: Option<&str>, appid: &str) -> MsgCrypto {
    MsgCrypto::new(
        Secret::new("vector-token"),
        EncodingAesKey::parse(key).unwrap(),
        previous.map(|k| EncodingAesKey::parse(k).unwrap()),
        ComponentAppid::parse(appid).unwrap(),
    )
}

#[test]
fn round_trips_every_length_from_0_to_100_bytes() {
    let c = codec(KEY, None, APPID);
    let mut pads_seen = std::collections::BTreeSet::new();
    for len in 0..=100 {
        let msg: String = "abcdefghij".chars().cycle().take(len).collect();
        let encrypted = c.encrypt(&msg);
        assert_eq!(c.decrypt(&encrypted).unwrap(), msg, "length {len}");
        pads_seen.insert(32 - (16 + 4 + len + APPID.len()) % 32);
    }
    // Every pad value 1..=32 occurs, including a full 32-byte block of padding.
    assert_eq!(pads_seen, (1..=32).collect());
}

#[test]
fn a_real_format_key_with_trailing_bits_is_accepted() {
    assert!(EncodingAesKey::parse(KEY).is_ok());
    // The strict decoder refuses it: this is what the tolerant decoding is for.
    use base64::Engine as _;
    assert!(base64::engine::general_purpose::STANDARD
        .decode(format!("{KEY}="))
        .is_err());
}

#[test]
fn keys_of_the_wrong_length_or_alphabet_are_named_errors() {
    assert_eq!(
        EncodingAesKey::parse("short").unwrap_err(),
        CryptoError::KeyLength { len: 5 }
    );
    assert_eq!(
        EncodingAesKey::parse(&format!("{KEY}A")).unwrap_err(),
        CryptoError::KeyLength { len: 44 }
    );
    assert_eq!(
        EncodingAesKey::parse("abcdefghijklmnopqrstuvwxyz0123456789ABCDEF!").unwrap_err(),
        CryptoError::KeyNotBase64
    );
    let debug = format!("{:?}", EncodingAesKey::parse(KEY).unwrap());
    assert!(!debug.contains("abc"), "{debug}");
}

#[test]
fn decrypts_vectors_made_by_wechatpy() {
    let file: serde_json::Value =
        serde_json::from_str(include_str!("vectors/wechatpy_vectors.json")).unwrap();
    assert_eq!(file["encoding_aes_key"], KEY);
    let c = MsgCrypto::new(
        Secret::new(file["token"].as_str().unwrap()),
        EncodingAesKey::parse(file["encoding_aes_key"].as_str().unwrap()).unwrap(),
        None,
        ComponentAppid::parse(file["appid"].as_str().unwrap()).unwrap(),
    );
    let vectors = file["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 5);
    for v in vectors {
        let s = |k: &str| v[k].as_str().unwrap().to_owned();
        let envelope = EncryptedEnvelope {
            app_id: Some(APPID.into()),
            to_user_name: None,
            encrypt: s("encrypt"),
        };
        let plain = c
            .open(&envelope, &s("timestamp"), &s("nonce"), &s("msg_signature"))
            .unwrap();
        assert_eq!(plain, s("plaintext"));
    }
}

#[test]
fn signature_matches_the_reference_formula_and_is_checked() {
    // sha1 of the sorted concatenation, computed independently here with the sha1 crate.
    use sha1::Digest as _;
    let parts = ["token", "1409659813", "1372623149", "msg_encrypt"];
    let mut sorted = parts;
    sorted.sort();
    let expected = hex::encode(sha1::Sha1::digest(sorted.concat().as_bytes()));
    assert_eq!(signature(parts[0], parts[1], parts[2], parts[3]), expected);

    let c = codec(KEY, None, APPID);
    let push = c.seal("<xml/>", "1700000000", "n1");
    let env = EncryptedEnvelope::parse_xml(&push.body).unwrap();
    assert!(c
        .verify_signature(
            &push.timestamp,
            &push.nonce,
            &env.encrypt,
            &push.msg_signature
        )
        .is_ok());
    assert!(c
        .verify_signature(
            &push.timestamp,
            &push.nonce,
            &env.encrypt,
            &push.msg_signature.to_uppercase()
        )
        .is_ok());
    for wrong in ["", "00", &"0".repeat(40)] {
        assert_eq!(
            c.verify_signature(&push.timestamp, &push.nonce, &env.encrypt, wrong),
            Err(CryptoError::SignatureMismatch)
        );
    }
    assert_eq!(
        c.verify_signature("1700000001", &push.nonce, &env.encrypt, &push.msg_signature),
        Err(CryptoError::SignatureMismatch)
    );
}

#[test]
fn tampering_anywhere_is_caught_by_the_signature_and_never_panics() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let c = codec(KEY, None, APPID);
    let push = c.seal(
        "<xml><InfoType>component_verify_ticket</InfoType></xml>",
        "1",
        "n",
    );
    let env = EncryptedEnvelope::parse_xml(&push.body).unwrap();
    let raw = b64.decode(&env.encrypt).unwrap();
    for i in 0..raw.len() {
        let mut tampered = raw.clone();
        tampered[i] ^= 0x01;
        let tampered_env = EncryptedEnvelope {
            encrypt: b64.encode(&tampered),
            ..env.clone()
        };
        assert_eq!(
            c.open(&tampered_env, "1", "n", &push.msg_signature),
            Err(CryptoError::SignatureMismatch),
            "byte {i}"
        );
        // Decrypting without the signature must fail or at least not panic.
        let _ = c.decrypt(&tampered_env.encrypt);
    }
    // A flip in the last block garbles the pad.
    let mut tampered = raw.clone();
    let last = tampered.len() - 1;
    tampered[last - 3] ^= 0x80;
    assert!(matches!(
        c.decrypt(&b64.encode(&tampered)),
        Err(CryptoError::Padding { .. } | CryptoError::AppidMismatch { .. })
    ));
}

#[test]
fn truncated_and_malformed_ciphertexts_are_named_errors() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let c = codec(KEY, None, APPID);
    let raw = b64.decode(c.encrypt("hello world")).unwrap();
    assert_eq!(
        c.decrypt(&b64.encode(&raw[..raw.len() - 5])),
        Err(CryptoError::CiphertextLength { len: raw.len() - 5 })
    );
    assert_eq!(c.decrypt(""), Err(CryptoError::CiphertextLength { len: 0 }));
    assert_eq!(
        c.decrypt("@@not base64@@"),
        Err(CryptoError::CiphertextNotBase64)
    );
    // Dropping the last 32-byte block removes the pad and the AppID.
    assert!(c.decrypt(&b64.encode(&raw[..raw.len() - 32])).is_err());
}

#[test]
fn a_message_for_another_appid_is_refused() {
    let other = codec(KEY, None, "wx_other_platform");
    let encrypted = other.encrypt("<xml/>");
    let c = codec(KEY, None, APPID);
    assert_eq!(
        c.decrypt(&encrypted),
        Err(CryptoError::AppidMismatch {
            expected: APPID.into(),
            found: "wx_other_platform".into()
        })
    );
}

#[test]
fn a_message_under_the_previous_key_is_accepted_during_rotation() {
    let old = codec(OTHER_KEY, None, APPID);
    let encrypted = old.encrypt("rotated");
    let without_previous = codec(KEY, None, APPID);
    assert!(matches!(
        without_previous.decrypt(&encrypted),
        Err(CryptoError::Padding { .. }
            | CryptoError::Truncated { .. }
            | CryptoError::AppidMismatch { .. })
    ));
    let with_previous = codec(KEY, Some(OTHER_KEY), APPID);
    assert_eq!(with_previous.decrypt(&encrypted).unwrap(), "rotated");
    // The current key still works, and encryption uses it.
    let fresh = with_previous.encrypt("current");
    assert_eq!(without_previous.decrypt(&fresh).unwrap(), "current");
}

#[test]
fn a_bad_pad_byte_is_refused() {
    use aes::cipher::block_padding::NoPadding;
    use aes::cipher::{BlockEncryptMut, KeyIvInit};
    use base64::Engine as _;
    let key = {
        use base64::engine::{general_purpose::GeneralPurposeConfig, GeneralPurpose};
        let engine = GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
        );
        engine.decode(format!("{KEY}=")).unwrap()
    };
    let c = codec(KEY, None, APPID);
    // Build plaintexts by hand with pads of 0, 33 and an inconsistent run.
    let body = [
        &[7u8; 16][..],
        &3u32.to_be_bytes(),
        b"abc",
        APPID.as_bytes(),
    ]
    .concat();
    let fill = 32 - body.len() % 32;
    for (name, last_bytes) in [
        ("zero", vec![0u8; fill]),
        ("inconsistent", {
            let mut v = vec![fill as u8; fill];
            v[0] = 99;
            v
        }),
    ] {
        let plain = [body.clone(), last_bytes].concat();
        let ct = cbc::Encryptor::<aes::Aes256>::new_from_slices(&key, &key[..16])
            .unwrap()
            .encrypt_padded_vec_mut::<NoPadding>(&plain);
        assert!(
            matches!(
                c.decrypt(&base64::engine::general_purpose::STANDARD.encode(ct)),
                Err(CryptoError::Padding { .. })
            ),
            "{name}"
        );
    }
}
