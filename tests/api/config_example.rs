//! `config.example.toml` must stay a valid settings file that documents every key, and the
//! README's settings table must name every variable.

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

#[test]
fn the_readme_settings_table_names_every_variable() {
    let readme = include_str!("../../README.md");
    let table: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("| variable | meaning | default |"))
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert!(!table.is_empty(), "the README has a settings table");
    let defaults = serde_json::to_value(gitpulse::config::Config::default()).expect("serializes");
    for key in defaults.as_object().expect("object").keys() {
        let variable = format!("`{}`", key.to_uppercase());
        assert!(
            table.iter().any(|row| row.contains(&variable)),
            "the README's settings table does not name {variable}"
        );
    }
}
