//! GitHub's `Link` header: `<https://api.github.com/...&page=2>; rel="next", <...>; rel="last"`.

/// The URL of the `rel="next"` page, if any.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        let url = url.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| url.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_next_page() {
        let header = "<https://api.github.com/repositories/1/events?per_page=100&page=2>; rel=\"next\", \
                      <https://api.github.com/repositories/1/events?per_page=100&page=3>; rel=\"last\"";
        assert_eq!(
            next_link(header).as_deref(),
            Some("https://api.github.com/repositories/1/events?per_page=100&page=2")
        );
        let last = "<https://x/?page=1>; rel=\"prev\", <https://x/?page=1>; rel=\"first\"";
        assert_eq!(next_link(last), None);
        assert_eq!(next_link(""), None);
        assert_eq!(next_link("garbage; rel=\"next\""), None);
    }
}
