use super::*;

fn key(id: &str, byte: u8) -> DataKey {
    DataKey::new(id, &[byte; 32]).unwrap()
}

#[test]
fn a_sealed_token_opens_only_for_its_item_and_attribute_under_its_key() {
    let k = key("0000000000001", 7);
    let aad = "component#wxc\nauthorizer#wxA\nrefresh_token";
    let sealed = k.seal(aad, "refresh-token-of-A");
    assert!(sealed.starts_with("wxs1:0000000000001:"), "{sealed}");
    assert!(!sealed.contains("refresh-token-of-A"));
    assert_eq!(k.open(aad, &sealed).unwrap(), "refresh-token-of-A");

    let other_item = "component#wxc\nauthorizer#wxB\nrefresh_token";
    assert_eq!(k.open(other_item, &sealed), Err(OpenError::Mismatch));
    let other_attribute = "component#wxc\nauthorizer#wxA\naccess_token";
    assert_eq!(k.open(other_attribute, &sealed), Err(OpenError::Mismatch));
    let same_id_other_bytes = key("0000000000001", 8);
    assert_eq!(
        same_id_other_bytes.open(aad, &sealed),
        Err(OpenError::Mismatch)
    );
    assert_eq!(
        key("0000000000002", 7).open(aad, &sealed),
        Err(OpenError::Malformed)
    );

    let mut altered = sealed.clone().into_bytes();
    let last = altered.len() - 2;
    altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    assert_eq!(k.open(aad, &altered), Err(OpenError::Mismatch));
    assert_eq!(
        k.open(aad, "wxs1:0000000000001:!!"),
        Err(OpenError::Malformed)
    );
}

#[test]
fn sealing_is_deterministic_per_item_so_conditions_can_compare_stored_tokens() {
    let k = key("k", 1);
    let a = "pk\nsk\naccess_token";
    assert_eq!(k.seal(a, "token-1"), k.seal(a, "token-1"));
    assert_ne!(k.seal(a, "token-1"), k.seal(a, "token-2"));
    assert_ne!(
        k.seal(a, "token-1"),
        k.seal("pk\nsk2\naccess_token", "token-1")
    );
    assert_ne!(k.seal(a, "token-1"), key("k", 2).seal(a, "token-1"));
}

#[test]
fn stored_values_say_whether_they_are_sealed_and_by_which_key() {
    let sealed = key("0000000000042", 3).seal("a", "t");
    assert_eq!(
        Stored::of(&sealed),
        Stored::Sealed {
            key_id: "0000000000042"
        }
    );
    assert_eq!(Stored::of("plain-access-token"), Stored::Plain);
    assert_eq!(Stored::of("wxs1:no-second-colon"), Stored::Plain);
}

#[test]
fn keys_of_the_wrong_length_are_refused_and_debug_shows_only_the_id() {
    assert!(DataKey::new("k", &[0; 16]).is_none());
    let debug = format!("{:?}", key("visible-id", 9));
    assert!(debug.contains("visible-id"), "{debug}");
    assert!(!debug.contains("9, 9"), "{debug}");
}
