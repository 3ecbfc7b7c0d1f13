//! Tests of the chart parameters' checks.
use super::*;

fn stars(query: &str) -> AppResult<StarsRequest> {
    let query: StarsQuery = serde_urlencoded_like(query);
    query.check()
}

/// A tiny `a=b&c=d` reader for the tests (values are plain here).
fn serde_urlencoded_like(query: &str) -> StarsQuery {
    let map: BTreeMap<String, String> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    serde_json::from_value(serde_json::to_value(map).expect("map")).expect("query")
}

fn message(result: AppResult<StarsRequest>) -> String {
    result.expect_err("refused").to_string()
}

#[test]
fn defaults_and_full_requests() {
    let r = stars("repos=a/b").expect("valid");
    assert_eq!(r.metric, Metric::Stars);
    assert_eq!(
        (r.scale, r.theme, r.size),
        (Scale::Linear, Theme::Light, (800, 400))
    );
    assert_eq!(r.from, None);
    let r = stars("repos=a/b,c-d/e.f&metric=forks&from=2024-01-01&to=2024-02-01&scale=log&theme=dark&width=1000&height=500")
        .expect("valid");
    assert_eq!(r.repos.len(), 2);
    assert_eq!(r.repos[1].to_string(), "c-d/e.f");
    assert_eq!(
        (r.metric, r.scale, r.theme),
        (Metric::Forks, Scale::Log, Theme::Dark)
    );
    assert_eq!(r.size, (1000, 500));
}

#[test]
fn every_bad_parameter_is_named() {
    for (query, name) in [
        ("metric=stars", "repos"),
        ("repos=nope", "repos"),
        ("repos=a/b/c", "repos"),
        ("repos=-a/b", "repos"),
        ("repos=a/..", "repos"),
        ("repos=a/b,A/B", "repos"),
        ("repos=a/b&metric=likes", "metric"),
        ("repos=a/b&scale=sqrt", "scale"),
        ("repos=a/b&theme=blue", "theme"),
        ("repos=a/b&from=2024-02-30", "from"),
        ("repos=a/b&to=yesterday", "to"),
        ("repos=a/b&to=0000-01-01", "to"),
        ("repos=a/b&width=199", "width"),
        ("repos=a/b&width=2001", "width"),
        ("repos=a/b&height=x", "height"),
        ("repos=a/b&height=1201", "height"),
    ] {
        let text = message(stars(query));
        assert!(text.contains(name), "{query}: {text}");
    }
    let eleven: Vec<String> = (0..11).map(|i| format!("o/r{i}")).collect();
    assert!(message(stars(&format!("repos={}", eleven.join(",")))).contains("at most 10"));
    let text = message(stars("repos=a/b&from=2024-02-02&to=2024-02-01"));
    assert_eq!(text, "from must not be after to");
}

#[test]
fn link_params_take_only_their_chart_names() {
    let params: BTreeMap<String, String> = [("repo".to_string(), "a/b".to_string())].into();
    assert!(ChartRequest::from_link(ChartKind::Badge, &params).is_ok());
    let err = ChartRequest::from_link(ChartKind::Stars, &params).expect_err("unknown");
    assert!(err.to_string().contains("\"repo\""), "{err}");
    let params: BTreeMap<String, String> = [
        ("repo".to_string(), "a/b".to_string()),
        ("days".to_string(), "0".to_string()),
    ]
    .into();
    let err = ChartRequest::from_link(ChartKind::Events, &params).expect_err("days");
    assert!(err.to_string().contains("days"), "{err}");
}
