//! `gitpulse rotate-key`: every token re-encrypted in one transaction, the old key refused
//! afterwards, and nothing changed when a token cannot be decrypted.

use gitpulse::crypto::{TokenCipher, parse_key};

use crate::data_dir::{Setup, key_in, store_token, stored_fingerprint, stored_tokens};
use crate::support::process::{assert_setup_error, entries, run_in, serve_in};

fn cipher(key: &str) -> TokenCipher {
    TokenCipher::new(&parse_key(key).expect("key"))
}

fn stdout(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "{:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn rotate_key_re_encrypts_every_token_and_the_old_key_is_refused() {
    let setup = Setup::new();
    let cwd = setup.dir.subdir("cwd");
    serve_in(&cwd, &setup.env(&[])).stopped();
    let old = key_in(&setup.key_file());
    let old_text = std::fs::read_to_string(setup.key_file()).expect("key");
    let db = setup.db().await;
    store_token(&db, "octocat", 1, &old.encrypt("gho_one")).await;
    store_token(&db, "hubot", 2, &old.encrypt("gho_two")).await;

    // --generate: the new key goes to the key file, and is never printed.
    let output = run_in(&cwd, &["rotate-key", "--generate"], &setup.env(&[]));
    let printed = stdout(&output);
    assert!(
        printed.contains("Re-encrypted 2 GitHub token(s)"),
        "{printed}"
    );
    let new_text = std::fs::read_to_string(setup.key_file()).expect("key");
    let new = key_in(&setup.key_file());
    assert_ne!(new.fingerprint(), old.fingerprint());
    for shown in [
        &printed,
        &String::from_utf8_lossy(&output.stderr).into_owned(),
    ] {
        assert!(!shown.contains(new_text.trim()) && !shown.contains(old_text.trim()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(setup.key_file())
            .expect("key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(
        entries(&setup.data_dir),
        ["token-encryption.key"],
        "no .new left"
    );
    let tokens = stored_tokens(&db).await;
    let plain: Vec<String> = tokens
        .iter()
        .map(|(_, c)| new.decrypt(c).expect("the new key decrypts"))
        .collect();
    assert_eq!(plain, ["gho_one", "gho_two"]);
    assert!(tokens.iter().all(|(_, c)| old.decrypt(c).is_err()));
    assert_eq!(
        stored_fingerprint(&db).await.as_deref(),
        Some(new.fingerprint())
    );

    // The old key is refused from now on; the new one starts.
    std::fs::write(setup.key_file(), &old_text).expect("the old key back");
    let output = serve_in(&cwd, &setup.env(&[])).failed();
    assert_setup_error(&output, "does not match the key that encrypted");
    std::fs::write(setup.key_file(), &new_text).expect("the new key");
    serve_in(&cwd, &setup.env(&[])).stopped();

    // --new-key-file: the given key, copied into the key file.
    let given = setup.dir.0.join("given.key");
    let third = "3c".repeat(32);
    std::fs::write(&given, &third).expect("given key");
    let given_arg = given.to_str().expect("utf-8");
    let output = run_in(
        &cwd,
        &["rotate-key", "--new-key-file", given_arg],
        &setup.env(&[]),
    );
    stdout(&output);
    assert_eq!(
        key_in(&setup.key_file()).fingerprint(),
        cipher(&third).fingerprint()
    );

    // TOKEN_ENCRYPTION_KEY: the new key from NEW_TOKEN_ENCRYPTION_KEY, nothing written.
    let fourth = "4d".repeat(32);
    let env = setup.env(&[
        ("TOKEN_ENCRYPTION_KEY", &third),
        ("NEW_TOKEN_ENCRYPTION_KEY", &fourth),
    ]);
    let refused = run_in(
        &cwd,
        &["rotate-key", "--generate"],
        &setup.env(&[("TOKEN_ENCRYPTION_KEY", &third)]),
    );
    assert_setup_error(&refused, "--generate needs a key file");
    let printed = stdout(&run_in(&cwd, &["rotate-key"], &env));
    assert!(
        printed.contains("Set TOKEN_ENCRYPTION_KEY to it"),
        "{printed}"
    );
    assert!(
        !printed.contains(&fourth) && !printed.contains(&third),
        "{printed}"
    );
    assert_eq!(
        key_in(&setup.key_file()).fingerprint(),
        cipher(&third).fingerprint()
    );
    let tokens = stored_tokens(&db).await;
    assert_eq!(
        cipher(&fourth).decrypt(&tokens[1].1).expect("decrypts"),
        "gho_two"
    );
    serve_in(&cwd, &setup.env(&[("TOKEN_ENCRYPTION_KEY", &fourth)])).stopped();
    assert!(entries(&cwd).is_empty(), "nothing in the working directory");
}

#[tokio::test]
async fn rotate_key_with_an_undecryptable_token_changes_nothing() {
    let setup = Setup::new();
    let cwd = setup.dir.subdir("cwd");
    serve_in(&cwd, &setup.env(&[])).stopped();
    let key_text = std::fs::read_to_string(setup.key_file()).expect("key");
    let key = key_in(&setup.key_file());
    let db = setup.db().await;
    store_token(&db, "octocat", 1, &key.encrypt("gho_good")).await;
    let bad = store_token(
        &db,
        "hubot",
        2,
        &cipher(&"99".repeat(32)).encrypt("gho_lost"),
    )
    .await;
    let before = stored_tokens(&db).await;

    let output = run_in(&cwd, &["rotate-key", "--generate"], &setup.env(&[]));
    assert_setup_error(
        &output,
        &format!(
            "1 stored GitHub token(s) cannot be decrypted with the current key (integration ids {bad}); nothing was changed"
        ),
    );
    assert_eq!(stored_tokens(&db).await, before);
    assert_eq!(
        stored_fingerprint(&db).await.as_deref(),
        Some(key.fingerprint())
    );
    assert_eq!(
        std::fs::read_to_string(setup.key_file()).expect("key"),
        key_text
    );
    assert_eq!(
        entries(&setup.data_dir),
        ["token-encryption.key"],
        "no .new"
    );

    // Bad input is one line too.
    let output = run_in(&cwd, &["rotate-key"], &setup.env(&[]));
    assert_setup_error(&output, "give the new key with exactly one of");
    let output = run_in(
        &cwd,
        &["rotate-key"],
        &setup.env(&[("NEW_TOKEN_ENCRYPTION_KEY", "short")]),
    );
    assert_setup_error(&output, "NEW_TOKEN_ENCRYPTION_KEY");
    assert_eq!(stored_tokens(&db).await, before);
}
