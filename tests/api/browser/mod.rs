//! The dashboard in a real browser: headless Chromium (Debian's `chromium`) driven through
//! WebDriver (`chromedriver`) with fantoccini, against real servers and the fake GitHub.
//!
//! Without Chromium or chromedriver the tests are skipped with a loud message on a
//! developer machine, and fail when `CI` is set (`.ci/run` installs both). `CHROMIUM` and
//! `CHROMEDRIVER` name other binaries. With `SCREENSHOT_DIR` set, the tests save
//! screenshots of the main pages there (`SCREENSHOT_DIR=docs/images` refreshes the README's).

mod journeys;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tokio::process::{Child, Command};
use tokio::sync::{Semaphore, SemaphorePermit};

/// One browser at a time: Chromium is heavy, and the other tests run beside it.
static ONE_BROWSER: Semaphore = Semaphore::const_new(1);

/// How long to wait for something to appear on the page.
const PATIENCE: Duration = Duration::from_secs(30);

const CHROMIUM_FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// How the browser looks at the page.
#[derive(Debug, Clone, Copy)]
pub struct View {
    pub width: u32,
    pub height: u32,
    pub dark: bool,
}

impl View {
    pub const DESKTOP: View = View {
        width: 1280,
        height: 1000,
        dark: false,
    };
    pub const PHONE: View = View {
        width: 375,
        height: 812,
        dark: false,
    };
    pub const DESKTOP_DARK: View = View {
        width: 1280,
        height: 1000,
        dark: true,
    };
}

pub struct Browser {
    pub client: Client,
    driver: Child,
    profile: PathBuf,
    _permit: SemaphorePermit<'static>,
}

fn find_binary(variable: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Ok(path) = std::env::var(variable) {
        return Some(PathBuf::from(path)).filter(|p| p.exists());
    }
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

impl Browser {
    /// A fresh headless Chromium, or `None` (after saying so) when it is not installed
    /// and `CI` is not set.
    pub async fn start(view: View) -> Option<Browser> {
        let chromium = find_binary(
            "CHROMIUM",
            &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
        );
        let driver = find_binary(
            "CHROMEDRIVER",
            &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"],
        );
        let (Some(chromium), Some(driver)) = (chromium, driver) else {
            let problem = "the browser tests need Chromium and chromedriver \
                (Debian: apt-get install chromium chromium-driver; or set CHROMIUM and CHROMEDRIVER)";
            if std::env::var_os("CI").is_some() {
                panic!("{problem}");
            }
            eprintln!("\n\n*** SKIPPED a browser test: {problem} ***\n");
            return None;
        };
        let permit = ONE_BROWSER.acquire().await.expect("semaphore open");
        let port = free_port();
        // In a process group of its own, so that Chromium goes with it (see `Drop`).
        let mut driver = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let webdriver = format!("http://127.0.0.1:{port}");
        wait_until_ready(&webdriver, &mut driver).await;

        let profile = std::env::temp_dir().join(format!(
            "gitpulse-chromium-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| f.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        args.push(format!("--window-size={},{}", view.width, view.height));
        args.push("--hide-scrollbars".into());
        if view.dark {
            args.push("--force-dark-mode".into());
            args.push("--blink-settings=preferredColorScheme=0".into());
        }
        let mut options = json!({"binary": chromium, "args": args});
        if view.width < 500 {
            // Headless windows are at least 500 px wide: a phone's viewport is emulated.
            options["mobileEmulation"] = json!({"deviceMetrics": {
                "width": view.width, "height": view.height, "pixelRatio": 2, "touch": false,
            }});
        }
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": options,
            "unhandledPromptBehavior": "ignore",
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("an object")
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&webdriver)
            .await
            .expect("a Chromium session starts");
        Some(Browser {
            client,
            driver,
            profile,
            _permit: permit,
        })
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigates");
    }

    /// The first element matching `css`, waiting for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
    }

    /// Waits until `css` is on the page and visible, then clicks it.
    pub async fn click(&self, css: &str) {
        let element = self.visible(css).await;
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    pub async fn visible(&self, css: &str) -> Element {
        let started = Instant::now();
        loop {
            let element = self.find(css).await;
            if element.is_displayed().await.unwrap_or(false) {
                return element;
            }
            assert!(started.elapsed() < PATIENCE, "{css} never became visible");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Types `text` into the field `css` after clearing it.
    pub async fn fill(&self, css: &str, text: &str) {
        let element = self.visible(css).await;
        element.clear().await.expect("clear");
        element
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// The text of `css` once it contains `needle`.
    pub async fn text_containing(&self, css: &str, needle: &str) -> String {
        let started = Instant::now();
        loop {
            let text = self.text_of(css).await;
            if text.as_deref().is_some_and(|t| t.contains(needle)) {
                return text.unwrap_or_default();
            }
            if started.elapsed() > PATIENCE {
                let page = self.script("return document.body.innerText").await;
                panic!("{css} never contained {needle:?} (it had {text:?}); the page: {page}");
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    async fn text_of(&self, css: &str) -> Option<String> {
        let elements = self.client.find_all(Locator::Css(css)).await.ok()?;
        let mut texts = Vec::new();
        for element in elements {
            texts.push(element.text().await.ok()?);
        }
        (!texts.is_empty()).then(|| texts.join("\n"))
    }

    /// Runs `body` (a function body) in the page and answers its JSON result.
    pub async fn script(&self, body: &str) -> Value {
        self.client
            .execute(body, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("script {body}: {e}"))
    }

    /// The signed-in user's token, as the page keeps it.
    pub async fn token(&self) -> String {
        self.script("return sessionStorage.getItem('gitpulse.token')")
            .await
            .as_str()
            .expect("a token in sessionStorage")
            .to_string()
    }

    /// Waits until no panel is still loading.
    pub async fn settled(&self) {
        let started = Instant::now();
        while self
            .script("return document.querySelectorAll('.loading-line, .loading').length")
            .await
            != json!(0)
        {
            assert!(started.elapsed() < PATIENCE, "the page kept loading");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// How many CSS pixels the page is wider than the window (0: no horizontal scrolling).
    pub async fn horizontal_overflow(&self) -> i64 {
        self.script(
            "const d = document.documentElement; return Math.max(d.scrollWidth, document.body.scrollWidth) - d.clientWidth",
        )
        .await
        .as_i64()
        .expect("a number")
    }

    /// Saves a screenshot as `SCREENSHOT_DIR/name.png` when that variable is set.
    pub async fn screenshot(&self, name: &str) {
        let Some(dir) = std::env::var_os("SCREENSHOT_DIR") else {
            return;
        };
        self.settled().await;
        // Let images decode and the spinner-free layout paint.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = Path::new(&dir);
        std::fs::create_dir_all(dir).expect("screenshot directory");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("screenshot written");
    }

    /// Ends the session (Chromium quits); `Drop` then stops chromedriver.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    /// Also when a test failed half-way: chromedriver and every Chromium process it started
    /// (its process group) are killed, and the profile is removed.
    fn drop(&mut self) {
        if let Some(pid) = self.driver.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.driver.start_kill();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

async fn wait_until_ready(webdriver: &str, driver: &mut Child) {
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        let answer = client.get(format!("{webdriver}/status")).send().await;
        if answer.is_ok_and(|response| response.status().is_success()) {
            return;
        }
        if let Ok(Some(status)) = driver.try_wait() {
            panic!("chromedriver exited at start: {status}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "chromedriver did not answer on {webdriver}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
