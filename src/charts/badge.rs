//! The shields-style stars badge ("stars | 1.2k").
//!
//! Written as a small SVG template rather than with plotters: a badge is two rectangles
//! and two texts with no axes or coordinates, and its width must hug its text, which
//! needs the per-character widths below (plotters' SVG backend only estimates text width
//! as a fixed fraction of the font size, which would leave the value off-centre).

use serde::Serialize;

use super::look::{compact, thousands, xml_escape};

const LABEL: &str = "stars";
const HEIGHT: u32 = 20;
const PADDING: f64 = 6.0;

/// Everything the drawing depends on (its hash is the ETag).
#[derive(Debug, Clone, Serialize)]
pub struct Badge {
    /// `owner/name`.
    pub repository: String,
    /// The newest count; `None` before the first one is known.
    pub stars: Option<i64>,
}

impl Badge {
    pub fn value(&self) -> String {
        self.stars.map_or_else(|| "none yet".to_string(), compact)
    }

    pub fn render(&self) -> String {
        let value = self.value();
        let label_width = text_width(LABEL) + 2.0 * PADDING;
        let value_width = text_width(&value) + 2.0 * PADDING;
        let width = label_width + value_width;
        let title = match self.stars {
            Some(n) => format!("{}: {} stars", self.repository, thousands(n)),
            None => format!("{}: no star count yet", self.repository),
        };
        let (label_x, value_x) = (label_width / 2.0, label_width + value_width / 2.0);
        format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{HEIGHT}" viewBox="0 0 {width:.0} {HEIGHT}" role="img" aria-label="{label}: {value}">
<title>{title}</title>
<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>
<clipPath id="r"><rect width="{width:.0}" height="{HEIGHT}" rx="3" fill="#fff"/></clipPath>
<g clip-path="url(#r)"><rect width="{label_width:.0}" height="{HEIGHT}" fill="#555"/><rect x="{label_width:.0}" width="{value_width:.0}" height="{HEIGHT}" fill="#007ec6"/><rect width="{width:.0}" height="{HEIGHT}" fill="url(#s)"/></g>
<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">
<text x="{label_x:.1}" y="15" fill="#010101" fill-opacity=".3">{label}</text><text x="{label_x:.1}" y="14">{label}</text>
<text x="{value_x:.1}" y="15" fill="#010101" fill-opacity=".3">{value}</text><text x="{value_x:.1}" y="14">{value}</text>
</g>
</svg>
"##,
            label = LABEL,
            value = xml_escape(&value),
            title = xml_escape(&title),
        )
    }
}

/// Width of `text` in Verdana 11px (the shields look), from per-character advances.
fn text_width(text: &str) -> f64 {
    text.chars()
        .map(|c| match c {
            '0'..='9' => 7.0,
            '.' | ',' => 3.6,
            ' ' => 3.9,
            'i' | 'l' => 3.1,
            'j' => 3.4,
            'f' | 't' | 'r' => 4.4,
            'm' | 'w' => 9.7,
            'M' => 8.7,
            'W' => 10.8,
            'A'..='Z' => 7.5,
            _ => 6.4,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_badge_shows_the_compact_count() {
        let badge = Badge {
            repository: "acme/rocket".into(),
            stars: Some(1234),
        };
        let svg = badge.render();
        assert!(svg.contains(">1.2k</text>"), "{svg}");
        assert!(svg.contains(">stars</text>"));
        assert!(svg.contains("<title>acme/rocket: 1,234 stars</title>"));
        let wide = Badge {
            repository: "a/b".into(),
            stars: Some(12_000_000),
        };
        let narrow = Badge {
            repository: "a/b".into(),
            stars: Some(7),
        };
        let width = |svg: &str| -> f64 {
            svg.split("width=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .and_then(|s| s.parse().ok())
                .expect("width")
        };
        assert!(width(&wide.render()) > width(&narrow.render()));
        let none = Badge {
            repository: "a/b".into(),
            stars: None,
        };
        assert!(none.render().contains(">none yet</text>"));
    }
}
