//! Tests of the URL policy and the address checks before git runs.
use std::time::Duration;

use super::*;
use crate::git::clone_mirror;

fn policy(allow_local: bool) -> UrlPolicy {
    UrlPolicy {
        allowed_hosts: vec!["github.com".into(), "git.example.org".into()],
        allow_local,
    }
}

#[test]
fn accepts_https_on_allowed_hosts() {
    let remote = policy(false)
        .check("https://GitHub.com/octo/hello.git")
        .expect("allowed");
    assert_eq!(remote.as_arg(), "https://github.com/octo/hello.git");
    assert_eq!(remote.protocol(), "https");
    assert!(policy(false).check("https://git.example.org/a/b").is_ok());
}

#[test]
fn refuses_everything_else() {
    let p = policy(false);
    let cases = [
        ("", UrlError::Empty),
        ("--upload-pack=touch /tmp/x", UrlError::LooksLikeOption),
        ("-u", UrlError::LooksLikeOption),
        ("ext::sh -c touch% /tmp/x", UrlError::BadCharacters),
        ("ext::sh", UrlError::TransportHelper),
        ("fd::17", UrlError::TransportHelper),
        ("https://user:pw@github.com/a/b", UrlError::Credentials),
        ("https://token@github.com/a/b", UrlError::Credentials),
        ("http://github.com/a/b", UrlError::NotHttps),
        ("fd::17:x", UrlError::TransportHelper),
        ("ssh://git@github.com/a/b", UrlError::Credentials),
        ("git://github.com/a/b", UrlError::NotHttps),
        ("git@github.com:a/b.git", UrlError::NotHttps),
        ("file:///tmp/repo", UrlError::LocalNotAllowed),
        ("/tmp/repo", UrlError::LocalNotAllowed),
        ("https://github.com\n/a", UrlError::BadCharacters),
    ];
    for (raw, expected) in cases {
        assert_eq!(p.check(raw), Err(expected), "{raw:?}");
    }
    assert!(matches!(
        p.check("https://evil.example.com/a/b"),
        Err(UrlError::HostNotAllowed { .. })
    ));
    // A look-alike host is not the allowed one.
    assert!(p.check("https://github.com.evil.example/a").is_err());
}

#[test]
fn ip_literals_name_the_real_reason() {
    let p = UrlPolicy {
        allowed_hosts: vec!["github.com".into()],
        allow_local: false,
    };
    let err = p.check("https://[::1]/x").expect_err("loopback");
    assert_eq!(
        err.to_string(),
        "points at [::1], a loopback address; set BACKUP_ALLOW_LOCAL=true to allow local remotes"
    );
    for (raw, kind) in [
        ("https://127.0.0.1/x", "loopback"),
        ("https://169.254.169.254/latest", "cloud metadata"),
        ("https://[fd00:ec2::254]/x", "cloud metadata"),
        ("https://[::ffff:10.0.0.1]/x", "private"),
        ("https://10.0.0.1:8443/x", "private"),
        ("https://100.64.1.1/x", "CGNAT"),
    ] {
        let err = p.check(raw).expect_err(raw).to_string();
        assert!(
            err.contains(kind) && err.contains("BACKUP_ALLOW_LOCAL"),
            "{raw}: {err}"
        );
    }
    // A public literal goes on to the allow-list.
    let err = p
        .check("https://[2606:50c0:8000::153]/x")
        .expect_err("not allowed");
    assert!(matches!(err, UrlError::HostNotAllowed { .. }), "{err}");
    // Allowed local: the allow-list still decides.
    let local = UrlPolicy {
        allowed_hosts: vec!["[::1]".into(), "127.0.0.1".into()],
        allow_local: true,
    };
    assert_eq!(
        local.check("https://[::1]/x").expect("allowed").as_arg(),
        "https://[::1]/x"
    );
    assert!(matches!(
        local.check("https://[::2]/x"),
        Err(UrlError::HostNotAllowed { .. })
    ));
    // http:// only for local remotes.
    assert_eq!(
        local
            .check("http://127.0.0.1:9/x")
            .expect("local http")
            .protocol(),
        "http"
    );
    assert_eq!(p.check("http://127.0.0.1:9/x"), Err(UrlError::NotHttps));
}

#[tokio::test]
async fn resolved_addresses_are_checked_before_git_runs() {
    let strict = UrlPolicy {
        allowed_hosts: vec!["localhost".into()],
        allow_local: false,
    };
    let remote = strict
        .check("https://localhost/x.git")
        .expect("passes the names");
    let err = remote
        .check_addresses()
        .await
        .expect_err("resolves to loopback");
    let message = err.to_string();
    assert!(
        message.contains("localhost resolves to") && message.contains("loopback"),
        "{message}"
    );
    let dest = std::env::temp_dir().join(format!("gitpulse-never-{}", uuid::Uuid::new_v4()));
    let err = clone_mirror(&remote, &dest, Duration::from_secs(10))
        .await
        .expect_err("refused before git runs");
    assert!(matches!(err, GitError::Refused(_)), "{err}");
    assert!(!dest.exists());

    let allowed = UrlPolicy {
        allowed_hosts: vec!["localhost".into()],
        allow_local: true,
    };
    let pinned = allowed
        .check("http://localhost:9/x.git")
        .expect("local http")
        .check_addresses()
        .await
        .expect("local allowed");
    let pinned: Vec<String> = pinned.iter().map(|a| a.to_string_lossy().into()).collect();
    assert_eq!(pinned[0], "-c");
    assert!(
        pinned[1].starts_with("http.curloptResolve=localhost:9:"),
        "{pinned:?}"
    );
}

#[test]
fn local_paths_only_when_allowed_and_absolute() {
    let p = policy(true);
    assert_eq!(
        p.check("/srv/git/repo"),
        Ok(Remote::Local("/srv/git/repo".into()))
    );
    assert_eq!(
        p.check("file:///srv/git/repo"),
        Ok(Remote::Local("/srv/git/repo".into()))
    );
    assert_eq!(p.check("repo"), Err(UrlError::RelativePath));
    assert_eq!(p.check("./repo"), Err(UrlError::RelativePath));
    assert_eq!(p.check("-repo"), Err(UrlError::LooksLikeOption));
    assert_eq!(
        p.check("file://otherhost/srv/repo"),
        Err(UrlError::Malformed)
    );
}

#[test]
fn errors_do_not_repeat_credentials() {
    let err = policy(false)
        .check("https://me:hunter2@github.com/a/b")
        .expect_err("credentials");
    assert!(!err.to_string().contains("hunter2"));
}
