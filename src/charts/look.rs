//! What every chart shares: the colours of a theme, number and date labels, and the
//! accessible `<title>`/`<desc>` added to the SVG plotters writes.

use plotters::style::RGBColor;

use super::params::Theme;

/// The colours of one theme.
#[derive(Debug, Clone, Copy)]
pub struct Palette {
    pub background: RGBColor,
    pub text: RGBColor,
    pub muted: RGBColor,
    pub grid: RGBColor,
    pub axis: RGBColor,
    /// One per series, distinguishable on this background.
    pub series: [RGBColor; 10],
}

impl Palette {
    pub fn of(theme: Theme) -> Self {
        match theme {
            Theme::Light => Self {
                background: RGBColor(0xff, 0xff, 0xff),
                text: RGBColor(0x1f, 0x23, 0x28),
                muted: RGBColor(0x59, 0x63, 0x6e),
                grid: RGBColor(0xea, 0xee, 0xf2),
                axis: RGBColor(0x8c, 0x95, 0x9f),
                // Tableau 10, darkened where it was too light on white.
                series: [
                    RGBColor(0x1f, 0x77, 0xb4),
                    RGBColor(0xe1, 0x57, 0x07),
                    RGBColor(0x2c, 0xa0, 0x2c),
                    RGBColor(0xd6, 0x27, 0x28),
                    RGBColor(0x94, 0x67, 0xbd),
                    RGBColor(0x8c, 0x56, 0x4b),
                    RGBColor(0xe3, 0x77, 0xc2),
                    RGBColor(0x5f, 0x5f, 0x5f),
                    RGBColor(0x9a, 0x9a, 0x12),
                    RGBColor(0x17, 0x9e, 0xb0),
                ],
            },
            Theme::Dark => Self {
                background: RGBColor(0x0d, 0x11, 0x17),
                text: RGBColor(0xe6, 0xed, 0xf3),
                muted: RGBColor(0x9d, 0xa7, 0xb3),
                grid: RGBColor(0x21, 0x26, 0x2d),
                axis: RGBColor(0x6e, 0x76, 0x81),
                series: [
                    RGBColor(0x58, 0xa6, 0xff),
                    RGBColor(0xff, 0xa6, 0x57),
                    RGBColor(0x56, 0xd3, 0x64),
                    RGBColor(0xff, 0x7b, 0x72),
                    RGBColor(0xd2, 0xa8, 0xff),
                    RGBColor(0xe3, 0xb3, 0x41),
                    RGBColor(0xf7, 0x78, 0xba),
                    RGBColor(0xc9, 0xd1, 0xd9),
                    RGBColor(0x3f, 0xb9, 0x50),
                    RGBColor(0x39, 0xc5, 0xcf),
                ],
            },
        }
    }
}

/// Font sizes as plotters takes them (it writes `size / 1.24` as the SVG font size, so
/// 16 is about 13 px: readable at 800×400).
pub const LABEL_SIZE: f64 = 16.0;
pub const CAPTION_SIZE: f64 = 22.0;

/// The x axis label of the day `offset` days after `from` (`YYYY-MM-DD`; empty off the
/// calendar).
pub fn day_label(from: chrono::NaiveDate, offset: i64) -> String {
    u64::try_from(offset)
        .ok()
        .and_then(|days| from.checked_add_days(chrono::Days::new(days)))
        .map_or_else(String::new, |d| d.format("%Y-%m-%d").to_string())
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `999`, `1.2k`, `12k`, `1.2M`: rounded down, so a count is never overstated.
pub fn compact(n: i64) -> String {
    if n.unsigned_abs() < 1000 {
        return n.to_string();
    }
    let sign = if n < 0 { "-" } else { "" };
    let n = n.unsigned_abs();
    let (unit, suffix) = [
        (1_000_000_000_000, "T"),
        (1_000_000_000, "B"),
        (1_000_000, "M"),
    ]
    .into_iter()
    .find(|(unit, _)| n >= *unit)
    .unwrap_or((1000, "k"));
    let whole = n / unit;
    if whole >= 10 {
        return format!("{sign}{whole}{suffix}");
    }
    let tenth = (n % unit) * 10 / unit;
    if tenth == 0 {
        format!("{sign}{whole}{suffix}")
    } else {
        format!("{sign}{whole}.{tenth}{suffix}")
    }
}

/// Round ticks from 0 to at most `top`, about `count` of them (steps of 1, 2 or 5 × 10ⁿ).
pub fn y_ticks(top: i64, count: i64) -> Vec<i64> {
    let rough = (top / count.max(1)).max(1);
    let mut magnitude = 1i64;
    while magnitude.saturating_mul(10) <= rough {
        magnitude *= 10;
    }
    let step = [1, 2, 5, 10]
        .into_iter()
        .map(|m| magnitude.saturating_mul(m))
        .find(|step| *step >= rough)
        .unwrap_or(magnitude);
    (0..=top / step).map(|i| i * step).collect()
}

/// Escapes text for XML content and attribute values.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() && c != '\n' => {}
            c => out.push(c),
        }
    }
    out
}

/// Makes the SVG an accessible image: `role="img"`, and a `<title>` (its name) and a
/// `<desc>` (what it shows) as its first children. plotters has no API for either.
pub fn accessible(svg: String, title: &str, desc: &str) -> String {
    let Some(start) = svg.find("<svg") else {
        return svg;
    };
    let Some(end) = svg[start..].find('>').map(|i| start + i) else {
        return svg;
    };
    let self_closing = svg[..end].ends_with('/');
    let tag_end = if self_closing { end - 1 } else { end };
    let mut out = String::with_capacity(svg.len() + title.len() + desc.len() + 160);
    out.push_str(&svg[..tag_end]);
    out.push_str(" role=\"img\" aria-labelledby=\"gitpulse-chart-title gitpulse-chart-desc\">\n");
    out.push_str(&format!(
        "<title id=\"gitpulse-chart-title\">{}</title>\n<desc id=\"gitpulse-chart-desc\">{}</desc>\n",
        xml_escape(title),
        xml_escape(desc)
    ));
    if self_closing {
        out.push_str("</svg>\n");
    } else {
        out.push_str(svg[end + 1..].trim_start_matches('\n'));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn badge_numbers_are_compact_and_never_overstated() {
        for (n, shown) in [
            (0, "0"),
            (7, "7"),
            (999, "999"),
            (1000, "1k"),
            (1049, "1k"),
            (1200, "1.2k"),
            (1299, "1.2k"),
            (9999, "9.9k"),
            (12_000, "12k"),
            (12_999, "12k"),
            (999_999, "999k"),
            (1_000_000, "1M"),
            (1_234_567, "1.2M"),
            (45_600_000, "45M"),
            (2_500_000_000, "2.5B"),
        ] {
            assert_eq!(compact(n), shown, "{n}");
        }
    }

    #[test]
    fn y_ticks_are_round() {
        assert_eq!(y_ticks(1, 5), [0, 1]);
        assert_eq!(y_ticks(11, 5), [0, 2, 4, 6, 8, 10]);
        assert_eq!(y_ticks(3400, 5), [0, 1000, 2000, 3000]);
        assert_eq!(y_ticks(1310, 5), [0, 500, 1000]);
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(-12_345), "-12,345");
    }

    #[test]
    fn title_and_desc_come_first_and_are_escaped() {
        let svg = "<svg width=\"10\" xmlns=\"http://www.w3.org/2000/svg\">\n<rect/>\n</svg>\n";
        let out = accessible(svg.to_string(), "Stars <a&b>", "d");
        assert!(
            out.starts_with("<svg width=\"10\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\"")
        );
        assert!(out.contains("<title id=\"gitpulse-chart-title\">Stars &lt;a&amp;b&gt;</title>"));
        assert!(out.contains("<desc id=\"gitpulse-chart-desc\">d</desc>\n<rect/>"));
    }
}
