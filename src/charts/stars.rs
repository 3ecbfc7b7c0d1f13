//! The line chart of daily stars, forks or watchers of up to 10 repositories, drawn with
//! plotters' SVG backend. A day without a count (no row, or forks and watchers on a
//! backfilled day) is a gap in the line: nothing is interpolated.

use chrono::NaiveDate;
use plotters::coord::Shift;
use plotters::coord::combinators::{BindKeyPoints, IntoLogRange, WithKeyPoints};
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordi32;
use plotters::prelude::*;
use serde::Serialize;

use super::look::{self, CAPTION_SIZE, LABEL_SIZE, Palette};
use super::params::{Metric, Scale, Theme};

/// Everything the drawing depends on (its hash is the ETag).
#[derive(Debug, Clone, Serialize)]
pub struct StarsChart {
    pub metric: Metric,
    pub scale: Scale,
    pub theme: Theme,
    pub size: (u32, u32),
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub series: Vec<Series>,
}

/// One repository's line.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    /// `owner/name`.
    pub name: String,
    /// Ascending days; `None` where the count is unknown.
    pub points: Vec<(NaiveDate, Option<i64>)>,
}

type Svg<'a> = DrawingArea<SVGBackend<'a>, Shift>;

impl StarsChart {
    fn noun(&self) -> &'static str {
        match self.metric {
            Metric::Stars => "Stars",
            Metric::Forks => "Forks",
            Metric::Watchers => "Watchers",
        }
    }

    fn known(&self) -> impl Iterator<Item = (NaiveDate, i64)> + '_ {
        self.series
            .iter()
            .flat_map(|s| s.points.iter().filter_map(|(d, v)| v.map(|v| (*d, v))))
    }

    /// The caption: the names of up to three repositories (more would not fit; the
    /// legend and the description name them all).
    pub fn title(&self) -> String {
        if self.series.len() > 3 {
            return format!("{} of {} repositories", self.noun(), self.series.len());
        }
        let names: Vec<&str> = self.series.iter().map(|s| s.name.as_str()).collect();
        format!("{} of {}", self.noun(), names.join(", "))
    }

    /// What the chart shows, in words.
    pub fn description(&self) -> String {
        let scale = match self.scale {
            Scale::Linear => "linear",
            Scale::Log => "logarithmic",
        };
        let mut desc = format!(
            "Line chart of daily {} from {} to {}, {scale} scale.",
            self.noun().to_lowercase(),
            self.from,
            self.to
        );
        for series in &self.series {
            let known: Vec<(NaiveDate, i64)> = series
                .points
                .iter()
                .filter_map(|(d, v)| v.map(|v| (*d, v)))
                .collect();
            match (known.first(), known.last()) {
                (Some((d0, v0)), Some((d1, v1))) => desc.push_str(&format!(
                    " {}: {} on {d0}, {} on {d1}.",
                    series.name,
                    look::thousands(*v0),
                    look::thousands(*v1)
                )),
                _ => desc.push_str(&format!(" {}: no data yet.", series.name)),
            }
        }
        desc
    }

    /// The SVG document.
    pub fn render(&self) -> Result<String, String> {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, self.size).into_drawing_area();
            self.draw(&root).map_err(|e| e.to_string())?;
            root.present().map_err(|e| e.to_string())?;
        }
        Ok(look::accessible(svg, &self.title(), &self.description()))
    }

    fn draw(&self, root: &Svg<'_>) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
        let palette = Palette::of(self.theme);
        root.fill(&palette.background)?;
        let days = i32::try_from((self.to - self.from).num_days())
            .unwrap_or(i32::MAX)
            .max(1);
        let max = self.known().map(|(_, v)| v).max().unwrap_or(0).max(0);
        let from = self.from;
        let x = (0..days).with_key_points(x_ticks(days, self.size.0));
        let caption = match self.scale {
            Scale::Linear => self.title(),
            Scale::Log => format!("{} (log scale)", self.title()),
        };
        let mut builder = ChartBuilder::on(root);
        builder
            .margin(12)
            .margin_right(48)
            .caption(
                caption,
                (FontFamily::SansSerif, CAPTION_SIZE)
                    .into_font()
                    .color(&palette.text),
            )
            .x_label_area_size(34);
        match self.scale {
            Scale::Linear => {
                let top = max + max / 10 + 1;
                builder.y_label_area_size(y_label_width(top));
                let y = (0i64..top).with_key_points(look::y_ticks(top, 5));
                let chart = builder.build_cartesian_2d(x, y)?;
                self.draw_lines(chart, &palette, from)
            }
            Scale::Log => {
                // plotters draws 0 at 0.5 on an integer log axis: the bottom edge, below 1.
                let top = (max.saturating_mul(2)).max(10);
                let mut keys = vec![0i64, 1];
                while let Some(next) = keys.last().and_then(|k| k.checked_mul(10)) {
                    if next > top {
                        break;
                    }
                    keys.push(next);
                }
                builder.y_label_area_size(y_label_width(top));
                let chart =
                    builder.build_cartesian_2d(x, (0i64..top).log_scale().with_key_points(keys))?;
                self.draw_lines(chart, &palette, from)
            }
        }
    }

    fn draw_lines<'a, Y>(
        &self,
        mut chart: ChartContext<'a, SVGBackend<'a>, Cartesian2d<WithKeyPoints<RangedCoordi32>, Y>>,
        palette: &Palette,
        from: NaiveDate,
    ) -> Result<(), DrawingAreaErrorKind<std::io::Error>>
    where
        Y: Ranged<ValueType = i64> + ValueFormatter<i64>,
    {
        let label = (FontFamily::SansSerif, LABEL_SIZE)
            .into_font()
            .color(&palette.text);
        let date_of = |x: &i32| look::day_label(from, i64::from(*x).max(0));
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

        if self.known().next().is_none() {
            no_data(chart.plotting_area(), "No data yet", palette)?;
            return Ok(());
        }
        let x_of = |d: NaiveDate| i32::try_from((d - from).num_days()).unwrap_or(0);
        for (i, series) in self.series.iter().enumerate() {
            let color = palette.series[i % palette.series.len()];
            let style = ShapeStyle::from(color).stroke_width(2);
            let runs = runs(&series.points);
            chart
                .draw_series(runs.iter().filter(|r| r.len() > 1).map(|run| {
                    PathElement::new(
                        run.iter().map(|(d, v)| (x_of(*d), *v)).collect::<Vec<_>>(),
                        style,
                    )
                }))?
                .label(series.name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
            // A day with no neighbour would draw no line: a dot shows it.
            chart.draw_series(
                runs.iter()
                    .filter(|r| r.len() == 1)
                    .map(|run| Circle::new((x_of(run[0].0), run[0].1), 3, color.filled())),
            )?;
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

/// Centred text in the plotting area (the "no data" notice).
pub(super) fn no_data<X: Ranged, Y: Ranged>(
    area: &DrawingArea<SVGBackend<'_>, Cartesian2d<X, Y>>,
    text: &str,
    palette: &Palette,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    let (xs, ys) = area.get_pixel_range();
    let style = (FontFamily::SansSerif, CAPTION_SIZE)
        .into_font()
        .color(&palette.muted)
        .pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Center,
            plotters::style::text_anchor::VPos::Center,
        ));
    let center = ((xs.end - xs.start) / 2, (ys.end - ys.start) / 2);
    area.strip_coord_spec()
        .draw(&Text::new(text.to_string(), center, style))
}

/// Runs of consecutive days with a known count.
fn runs(points: &[(NaiveDate, Option<i64>)]) -> Vec<Vec<(NaiveDate, i64)>> {
    let mut runs: Vec<Vec<(NaiveDate, i64)>> = Vec::new();
    let mut previous: Option<NaiveDate> = None;
    for (day, value) in points {
        match value {
            Some(v) => {
                let continues = previous.is_some_and(|p| (*day - p).num_days() == 1);
                match runs.last_mut() {
                    Some(run) if continues => run.push((*day, *v)),
                    _ => runs.push(vec![(*day, *v)]),
                }
                previous = Some(*day);
            }
            None => previous = None,
        }
    }
    runs
}

/// Evenly spaced day offsets for the date labels, the first and the last day included,
/// about 130 pixels apart so ISO dates never overlap.
pub(super) fn x_ticks(days: i32, width: u32) -> Vec<i32> {
    let fit = i32::try_from(width.saturating_sub(120) / 130)
        .unwrap_or(2)
        .max(2);
    let count = fit.min(days + 1);
    let mut ticks: Vec<i32> = (0..count)
        .map(|i| {
            let tick = i64::from(i) * i64::from(days) / i64::from((count - 1).max(1));
            i32::try_from(tick).unwrap_or(days)
        })
        .collect();
    ticks.dedup();
    ticks
}

/// Room for the longest y label.
pub(super) fn y_label_width(top: i64) -> u32 {
    let chars = u32::try_from(look::thousands(top).len()).unwrap_or(12);
    (chars * 8 + 18).max(44)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn gaps_split_the_line() {
        let points = vec![
            (day("2024-01-01"), Some(1)),
            (day("2024-01-02"), Some(2)),
            (day("2024-01-03"), None),
            (day("2024-01-04"), Some(4)),
            (day("2024-01-06"), Some(6)),
            (day("2024-01-07"), Some(7)),
        ];
        let runs = runs(&points);
        let lengths: Vec<usize> = runs.iter().map(Vec::len).collect();
        assert_eq!(lengths, [2, 1, 2]);
    }

    #[test]
    fn many_repositories_are_counted_in_the_caption() {
        let chart = |n: usize| StarsChart {
            metric: Metric::Forks,
            scale: Scale::Linear,
            theme: Theme::Light,
            size: (800, 400),
            from: day("2024-01-01"),
            to: day("2024-01-31"),
            series: (0..n)
                .map(|i| Series {
                    name: format!("acme/r{i}"),
                    points: vec![(day("2024-01-02"), Some(3)), (day("2024-01-03"), Some(4))],
                })
                .collect(),
        };
        assert_eq!(chart(3).title(), "Forks of acme/r0, acme/r1, acme/r2");
        assert_eq!(chart(4).title(), "Forks of 4 repositories");
        let svg = chart(10).render().expect("renders");
        for i in 0..10 {
            assert!(
                svg.contains(&format!("acme/r{i}")),
                "legend names acme/r{i}"
            );
        }
    }

    #[test]
    fn ticks_include_both_ends() {
        assert_eq!(x_ticks(1095, 800), [0, 273, 547, 821, 1095]);
        assert_eq!(x_ticks(1095, 1200), [0, 156, 312, 469, 625, 782, 938, 1095]);
        assert_eq!(x_ticks(2, 800), [0, 1, 2]);
        assert_eq!(x_ticks(1, 200), [0, 1]);
    }
}
