//! `config.example.toml` must stay a valid settings file that documents every key.

#[test]
fn example_config_parses_and_names_every_key() {
    let text = include_str!("../../config.example.toml");
    let config = gitpulse::config::Config::from_toml(text).expect("config.example.toml parses");
    config.validate().expect("config.example.toml is valid");
    let defaults = serde_json::to_value(gitpulse::config::Config::default()).expect("serializes");
    for key in defaults.as_object().expect("object").keys() {
        assert!(
            text.lines().any(|l| l
                .trim_start_matches(['#', ' '])
                .starts_with(&format!("{key} ="))),
            "config.example.toml does not document `{key}`"
        );
    }
}
