//! Where "Sign in with GitHub" may send the browser back to: a front end's `redirect_to`,
//! checked against the allowed origins (this server's own, where the dashboard is, and
//! `FRONTEND_URLS`, else `CORS_ORIGINS`), and the URL
//! fragment that carries the outcome (`#access_token=…` or `#error=…`), so that a
//! single-page app completes the login without a server of its own.

use url::Url;

/// Longest `redirect_to` accepted.
const MAX_LEN: usize = 2048;

/// The origin (`scheme://host[:port]`) of an allowed front end, from a setting's entry.
pub fn origin_of_setting(entry: &str) -> Result<String, String> {
    let url = Url::parse(entry).map_err(|e| format!("`{entry}`: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("`{entry}`: expected an http:// or https:// origin"));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "`{entry}`: expected an origin (scheme, host and port) without a path"
        ));
    }
    Ok(url.origin().ascii_serialization())
}

/// Checks a `redirect_to` against the allowed origins; the answer says what is wrong.
pub fn check(redirect_to: &str, allowed: &[String]) -> Result<Url, String> {
    if redirect_to.len() > MAX_LEN {
        return Err(format!(
            "redirect_to must be at most {MAX_LEN} characters long"
        ));
    }
    let url = Url::parse(redirect_to)
        .map_err(|e| format!("redirect_to must be an absolute http(s) URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err("redirect_to must be an absolute http(s) URL".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("redirect_to must not contain a user name or password".into());
    }
    if url.fragment().is_some() {
        return Err(
            "redirect_to must not have a fragment (#...): the outcome of the login goes there"
                .into(),
        );
    }
    let origin = url.origin().ascii_serialization();
    if allowed.is_empty() {
        return Err(
            "redirect_to is not enabled on this server (set FRONTEND_URLS to the front ends' origins)"
                .into(),
        );
    }
    if !allowed.contains(&origin) {
        return Err(format!(
            "redirect_to: the origin {origin} is not this server's own (PUBLIC_URL) and not in FRONTEND_URLS"
        ));
    }
    Ok(url)
}

/// `redirect_to#access_token=…&token_type=bearer&expires_in=…`.
pub fn with_token(redirect_to: &str, access_token: &str, expires_in: i64) -> String {
    with_fragment(
        redirect_to,
        &[
            ("access_token", access_token),
            ("token_type", "bearer"),
            ("expires_in", &expires_in.to_string()),
        ],
    )
}

/// `redirect_to#error=…&error_description=…` (OAuth 2.0 error codes).
pub fn with_error(redirect_to: &str, error: &str, description: &str) -> String {
    with_fragment(
        redirect_to,
        &[("error", error), ("error_description", description)],
    )
}

fn with_fragment(redirect_to: &str, pairs: &[(&str, &str)]) -> String {
    let fragment = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("{redirect_to}#{fragment}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Vec<String> {
        vec![origin_of_setting("https://app.example.com").expect("origin")]
    }

    #[test]
    fn settings_name_origins() {
        assert_eq!(
            origin_of_setting("https://app.example.com/").as_deref(),
            Ok("https://app.example.com")
        );
        assert_eq!(
            origin_of_setting("http://localhost:5173").as_deref(),
            Ok("http://localhost:5173")
        );
        assert_eq!(
            origin_of_setting("HTTPS://App.Example.com:443").as_deref(),
            Ok("https://app.example.com")
        );
        assert!(origin_of_setting("https://app.example.com/login").is_err());
        assert!(origin_of_setting("app.example.com").is_err());
        assert!(origin_of_setting("ftp://app.example.com").is_err());
    }

    #[test]
    fn only_allowed_origins_pass() {
        let ok = check("https://app.example.com/after-login?x=1", &allowed()).expect("ok");
        assert_eq!(ok.path(), "/after-login");
        for (bad, why) in [
            ("https://evil.example.com/", "not in FRONTEND_URLS"),
            ("https://app.example.com.evil.net/", "not in FRONTEND_URLS"),
            ("http://app.example.com/", "not in FRONTEND_URLS"),
            ("https://app.example.com:8443/", "not in FRONTEND_URLS"),
            ("https://user:pw@app.example.com/", "user name"),
            ("https://app.example.com/#x", "fragment"),
            ("/relative", "absolute"),
            ("javascript:alert(1)", "absolute"),
            ("//evil.example.com/", "absolute"),
        ] {
            let err = check(bad, &allowed()).expect_err(bad);
            assert!(err.contains(why), "{bad}: {err}");
        }
        let long = format!("https://app.example.com/{}", "a".repeat(MAX_LEN));
        assert!(check(&long, &allowed()).is_err());
        let off = check("https://app.example.com/", &[]).expect_err("disabled");
        assert!(off.contains("FRONTEND_URLS"), "{off}");
    }

    #[test]
    fn fragments_are_form_encoded() {
        assert_eq!(
            with_token("https://app.example.com/cb?x=1", "a.b-c_d", 3600),
            "https://app.example.com/cb?x=1#access_token=a.b-c_d&token_type=bearer&expires_in=3600"
        );
        assert_eq!(
            with_error("https://app.example.com/", "access_denied", "No & thanks"),
            "https://app.example.com/#error=access_denied&error_description=No+%26+thanks"
        );
    }
}
