//! The layout rules of ARCHITECTURE.md, checked so that they stay true: no file in `src/`
//! is over 400 lines, `http/` never imports `jobs/`, and nothing below `http/` imports it.

use std::path::{Path, PathBuf};

const MAX_LINES: usize = 400;

fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src/") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

fn files() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    sources(&root.join("src"), &mut found);
    found.sort();
    found
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("read a source file");
            let name = path
                .strip_prefix(root)
                .expect("under the crate")
                .display()
                .to_string();
            (name, text)
        })
        .collect()
}

#[test]
fn no_source_file_is_over_400_lines() {
    let long: Vec<String> = files()
        .into_iter()
        .filter(|(_, text)| text.lines().count() > MAX_LINES)
        .map(|(name, text)| format!("{name}: {} lines", text.lines().count()))
        .collect();
    assert!(
        long.is_empty(),
        "split these (ARCHITECTURE.md: at most {MAX_LINES} lines a file): {long:?}"
    );
}

#[test]
fn http_never_imports_jobs_and_nothing_below_it_imports_http() {
    let mut broken = Vec::new();
    for (name, text) in files() {
        let in_http = name.starts_with("src/http/");
        if in_http && text.contains("crate::jobs") {
            broken.push(format!("{name} imports jobs/"));
        }
        let top = matches!(name.as_str(), "src/lib.rs" | "src/server.rs" | "src/cli.rs");
        if !in_http && !top && text.contains("crate::http") {
            broken.push(format!("{name} imports http/"));
        }
    }
    assert!(broken.is_empty(), "{broken:?}");
}
