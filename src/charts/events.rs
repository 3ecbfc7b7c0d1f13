//! The stacked bar chart of a repository's stored events per day by type.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use plotters::coord::combinators::BindKeyPoints;
use plotters::prelude::*;
use serde::Serialize;

use super::look::{self, CAPTION_SIZE, LABEL_SIZE, Palette};
use super::params::Theme;
use super::stars::{no_data, x_ticks, y_label_width};

/// Types beyond this many share one "other" colour.
const MAX_TYPES: usize = 9;
/// Units of the x axis per day.
const TENTHS: i32 = 10;

/// Everything the drawing depends on (its hash is the ETag).
#[derive(Debug, Clone, Serialize)]
pub struct EventsChart {
    /// `owner/name`.
    pub repository: String,
    pub theme: Theme,
    pub size: (u32, u32),
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Events per (day, type), as stored.
    pub counts: Vec<(NaiveDate, String, i64)>,
}

impl EventsChart {
    fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    pub fn title(&self) -> String {
        format!("Events of {}, last {} days", self.repository, self.days())
    }

    /// Types by total, most frequent first; past [`MAX_TYPES`] they become "other".
    fn types(&self) -> Vec<(String, i64)> {
        let mut totals: BTreeMap<&str, i64> = BTreeMap::new();
        for (_, kind, n) in &self.counts {
            *totals.entry(kind.as_str()).or_default() += n;
        }
        let mut types: Vec<(String, i64)> = totals
            .into_iter()
            .map(|(k, n)| (k.to_string(), n))
            .collect();
        types.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        if types.len() > MAX_TYPES {
            let other: i64 = types[MAX_TYPES - 1..].iter().map(|(_, n)| n).sum();
            types.truncate(MAX_TYPES - 1);
            types.push(("other".to_string(), other));
        }
        types
    }

    pub fn description(&self) -> String {
        let types = self.types();
        let total: i64 = types.iter().map(|(_, n)| n).sum();
        if total == 0 {
            return format!(
                "Stacked bar chart of events per day from {} to {}: no events stored yet.",
                self.from, self.to
            );
        }
        let parts: Vec<String> = types
            .iter()
            .map(|(k, n)| format!("{k} {}", look::thousands(*n)))
            .collect();
        format!(
            "Stacked bar chart of events per day by type from {} to {}, {} events: {}.",
            self.from,
            self.to,
            look::thousands(total),
            parts.join(", ")
        )
    }

    pub fn render(&self) -> Result<String, String> {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, self.size).into_drawing_area();
            self.draw(&root).map_err(|e| e.to_string())?;
            root.present().map_err(|e| e.to_string())?;
        }
        Ok(look::accessible(svg, &self.title(), &self.description()))
    }

    fn draw(
        &self,
        root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    ) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
        let palette = Palette::of(self.theme);
        root.fill(&palette.background)?;
        let days = i32::try_from(self.days()).unwrap_or(i32::MAX).max(1);
        let types = self.types();
        let slot = |kind: &str| {
            types
                .iter()
                .position(|(k, _)| k == kind)
                .unwrap_or(types.len().saturating_sub(1))
        };
        // stacks[day][type slot]
        let mut stacks = vec![vec![0i64; types.len()]; usize::try_from(days).unwrap_or(0)];
        for (day, kind, n) in &self.counts {
            let index = usize::try_from((*day - self.from).num_days()).ok();
            if let Some(stack) = index.and_then(|i| stacks.get_mut(i)) {
                stack[slot(kind)] += n;
            }
        }
        let max = stacks
            .iter()
            .map(|s| s.iter().sum::<i64>())
            .max()
            .unwrap_or(0);
        let top = max + max / 10 + 1;
        // A day is TENTHS units wide: its bar leaves a little room on each side, its label
        // sits in the middle.
        let ticks: Vec<i32> = x_ticks(days - 1, self.size.0)
            .into_iter()
            .map(|t| t * TENTHS + TENTHS / 2)
            .collect();
        let label = (FontFamily::SansSerif, LABEL_SIZE)
            .into_font()
            .color(&palette.text);
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_right(48)
            .caption(
                self.title(),
                (FontFamily::SansSerif, CAPTION_SIZE)
                    .into_font()
                    .color(&palette.text),
            )
            .x_label_area_size(34)
            .y_label_area_size(y_label_width(top))
            .build_cartesian_2d(
                (0..days * TENTHS).with_key_points(ticks),
                (0i64..top).with_key_points(look::y_ticks(top, 5)),
            )?;
        let from = self.from;
        let date_of = |x: &i32| look::day_label(from, i64::from(x / TENTHS).max(0));
        let count_of = |v: &i64| look::thousands(*v);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .bold_line_style(palette.grid)
            .axis_style(palette.axis)
            .label_style(label.clone())
            .x_label_formatter(&date_of)
            .y_label_formatter(&count_of)
            .draw()?;
        if max == 0 {
            return no_data(chart.plotting_area(), "No events stored yet", &palette);
        }
        for (slot, (kind, _)) in types.iter().enumerate() {
            let color = palette.series[slot % palette.series.len()];
            let bars = stacks.iter().enumerate().filter_map(|(day, stack)| {
                let below: i64 = stack[..slot].iter().sum();
                let x = i32::try_from(day).unwrap_or(0) * TENTHS;
                (stack[slot] > 0).then(|| {
                    Rectangle::new(
                        [(x + 1, below), (x + TENTHS - 1, below + stack[slot])],
                        color.filled(),
                    )
                })
            });
            chart
                .draw_series(bars)?
                .label(kind.clone())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled())
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .margin(10)
            .background_style(palette.background.mix(0.9))
            .border_style(palette.axis)
            .label_font(label)
            .draw()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rare_types_are_grouped_as_other() {
        let day: NaiveDate = "2024-01-01".parse().expect("date");
        let counts = (0..12)
            .map(|i| (day, format!("Type{i:02}Event"), 20 - i64::from(i)))
            .collect();
        let chart = EventsChart {
            repository: "a/b".into(),
            theme: Theme::Light,
            size: (800, 400),
            from: day,
            to: day,
            counts,
        };
        let types = chart.types();
        assert_eq!(types.len(), MAX_TYPES);
        assert_eq!(types[0], ("Type00Event".to_string(), 20));
        assert_eq!(types[MAX_TYPES - 1].0, "other");
        assert_eq!(
            types.iter().map(|(_, n)| n).sum::<i64>(),
            (9..=20).sum::<i64>()
        );
        let svg = chart.render().expect("renders");
        assert!(svg.contains("other"));
    }
}
