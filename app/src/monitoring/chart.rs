//! Line charts as inline SVG, drawn from a chart's series by a small path builder. The same code
//! renders on the server (the chart is in the HTML before any script runs) and in the browser
//! (hydration, live refresh). No chart library: the ones for Rust/WASM add 100-300 KiB to a
//! bundle already at 500 KiB brotli, for axes and polylines this module draws in ~200 lines.

use console_api::monitoring::{Chart, Series, TimeRange, Unit};
use leptos::prelude::*;

const WIDTH: f64 = 480.0;
const HEIGHT: f64 = 160.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 8.0;
const BOTTOM: f64 = 20.0;

/// Line colours, told apart in light and dark themes alike.
const COLOURS: [&str; 6] = [
    "#2563eb", "#d97706", "#059669", "#db2777", "#7c3aed", "#0891b2",
];

/// A series drawn: its name, colour, SVG path and newest value.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub name: String,
    pub colour: &'static str,
    pub path: String,
    pub last: Option<f64>,
}

/// Everything a chart's SVG needs, in pixel coordinates.
#[derive(Clone, Debug, PartialEq)]
pub struct Plot {
    pub lines: Vec<Line>,
    /// `(y, label)` of the horizontal grid lines.
    pub y_ticks: Vec<(f64, String)>,
    /// `(x, label)` of the time ticks.
    pub x_ticks: Vec<(f64, String)>,
}

/// 1, 2 or 5 times a power of ten, at least `value` (a readable top of the y axis).
pub fn nice_ceiling(value: f64) -> f64 {
    if !value.is_finite() || value <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(value.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|v| *v >= value * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude)
}

/// A value as the chart's unit reads.
pub fn format_value(value: f64, unit: Unit) -> String {
    let short = |v: f64| {
        if v == 0.0 {
            "0".to_string()
        } else if v.abs() >= 1_000_000.0 {
            format!("{:.1}M", v / 1_000_000.0)
        } else if v.abs() >= 1000.0 {
            format!("{:.1}k", v / 1000.0)
        } else if v.abs() >= 10.0 || v.fract() == 0.0 {
            format!("{v:.0}")
        } else if v.abs() >= 0.1 {
            format!("{v:.2}")
        } else {
            format!("{v:.3}")
        }
    };
    match unit {
        Unit::PerSecond => format!("{}/s", short(value)),
        Unit::Seconds if value < 1.0 && value != 0.0 => format!("{} ms", short(value * 1000.0)),
        Unit::Seconds => format!("{} s", short(value)),
        Unit::Ratio => format!("{}%", short(value * 100.0)),
        Unit::Count => short(value),
    }
}

/// `HH:MM` (UTC) of a unix time, the same on the server and in the browser.
fn clock(unix: f64) -> String {
    let minutes = (unix.max(0.0) as i64 / 60) % (24 * 60);
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Lays out `series` over `range` ending at `end`: a path per series (broken where points are
/// missing for more than two steps), y from 0 to a nice ceiling of the largest value.
pub fn plot(series: &[Series], range: TimeRange, end: f64, unit: Unit) -> Plot {
    let start = end - range.seconds() as f64;
    let span = (end - start).max(1.0);
    let max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|(_, v)| *v))
        .fold(0.0_f64, f64::max);
    let top = nice_ceiling(max);
    let x = |t: f64| LEFT + (t - start) / span * (WIDTH - LEFT - RIGHT);
    let y = |v: f64| TOP + (1.0 - v / top) * (HEIGHT - TOP - BOTTOM);
    let gap = 2.5 * range.step_seconds() as f64;
    let lines = series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut path = String::new();
            let mut previous: Option<f64> = None;
            for (t, v) in s.points.iter().filter(|(t, _)| *t >= start && *t <= end) {
                let command = match previous {
                    Some(p) if t - p <= gap => 'L',
                    _ => 'M',
                };
                if !path.is_empty() {
                    path.push(' ');
                }
                path.push_str(&format!("{command}{:.1},{:.1}", x(*t), y(*v)));
                previous = Some(*t);
            }
            Line {
                name: s.name.clone(),
                colour: COLOURS[i % COLOURS.len()],
                path,
                last: s.points.last().map(|(_, v)| *v),
            }
        })
        .collect();
    let y_ticks = (0..=2)
        .map(|i| {
            let v = top * f64::from(i) / 2.0;
            (y(v), format_value(v, unit))
        })
        .collect();
    let x_ticks = (0..=3)
        .map(|i| {
            let t = start + span * f64::from(i) / 3.0;
            (x(t), clock(t))
        })
        .collect();
    Plot {
        lines,
        y_ticks,
        x_ticks,
    }
}

/// One chart: title, the SVG (or why there is no data) and a legend with each series' newest
/// value. `empty` and `failed` are the page's words for no data and for a backend error.
#[component]
pub fn LineChart(
    chart: Chart,
    range: TimeRange,
    end: f64,
    #[prop(into)] title: String,
    #[prop(into)] empty: String,
) -> impl IntoView {
    let unit = chart.kind.unit();
    let plot = plot(&chart.series, range, end, unit);
    let has_data = plot.lines.iter().any(|l| !l.path.is_empty());
    let summary = plot
        .lines
        .iter()
        .filter_map(|l| {
            l.last
                .map(|v| format!("{} {}", l.name, format_value(v, unit)))
        })
        .collect::<Vec<_>>()
        .join(", ");
    let label = if summary.is_empty() {
        title.clone()
    } else {
        format!("{title}: {summary}")
    };
    let id = chart.kind.id();
    view! {
        <figure
            class="rounded-lg border border-slate-200 p-3 dark:border-slate-700"
            data-testid="chart"
            data-chart=id
            data-series=plot.lines.len()
        >
            <figcaption class="mb-1 text-sm font-medium">{title}</figcaption>
            {match (&chart.error, has_data) {
                (Some(error), _) => {
                    view! { <p class="text-sm text-red-700 dark:text-red-300" role="alert">{error.clone()}</p> }
                        .into_any()
                }
                (None, false) => {
                    view! { <p class="text-sm text-slate-500 dark:text-slate-400">{empty}</p> }.into_any()
                }
                (None, true) => {
                    view! {
                        <svg
                            viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                            class="h-auto w-full text-slate-400 dark:text-slate-500"
                            role="img"
                            aria-label=label
                        >
                            {plot
                                .y_ticks
                                .iter()
                                .map(|(y, text)| {
                                    view! {
                                        <line x1=LEFT x2=WIDTH - RIGHT y1=*y y2=*y stroke="currentColor" stroke-opacity="0.35" stroke-width="0.5" />
                                        <text x=LEFT - 4.0 y=*y + 3.0 text-anchor="end" font-size="9" fill="currentColor">{text.clone()}</text>
                                    }
                                })
                                .collect_view()}
                            {plot
                                .x_ticks
                                .iter()
                                .map(|(x, text)| {
                                    view! {
                                        <text x=*x y=HEIGHT - 6.0 text-anchor="middle" font-size="9" fill="currentColor">{text.clone()}</text>
                                    }
                                })
                                .collect_view()}
                            {plot
                                .lines
                                .iter()
                                .map(|l| {
                                    view! {
                                        <path d=l.path.clone() fill="none" stroke=l.colour stroke-width="1.5" stroke-linejoin="round" data-series=l.name.clone() />
                                    }
                                })
                                .collect_view()}
                        </svg>
                    }
                        .into_any()
                }
            }}
            <ul class="mt-1 flex flex-wrap gap-x-3 text-xs">
                {plot
                    .lines
                    .iter()
                    .map(|l| {
                        let last = l.last.map(|v| format_value(v, unit)).unwrap_or_default();
                        view! {
                            <li class="flex items-center gap-1" data-series=l.name.clone() data-last=l.last.map(|v| v.to_string()).unwrap_or_default()>
                                <svg aria-hidden="true" width="10" height="10" viewBox="0 0 10 10"><rect width="10" height="10" fill=l.colour /></svg>
                                <span>{l.name.clone()}</span>
                                <span class="font-mono">{last}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_y_axis_tops_at_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(3.0), 5.0);
        assert_eq!(nice_ceiling(5.0), 5.0);
        assert_eq!(nice_ceiling(0.013), 0.02);
        assert_eq!(nice_ceiling(740.0), 1000.0);
    }

    #[test]
    fn values_read_in_their_unit() {
        assert_eq!(format_value(0.0042, Unit::Seconds), "4.20 ms");
        assert_eq!(format_value(2.5, Unit::PerSecond), "2.50/s");
        assert_eq!(format_value(0.05, Unit::Ratio), "5%");
        assert_eq!(format_value(1500.0, Unit::Count), "1.5k");
    }

    #[test]
    fn paths_span_the_range_and_break_where_points_are_missing() {
        let end = 10_000.0;
        let step = TimeRange::Minutes15.step_seconds() as f64;
        let start = end - 900.0;
        let series = vec![Series {
            name: "GET".into(),
            points: vec![
                (start, 0.0),
                (start + step, 1.0),
                // a gap of many steps: the line starts again
                (end - step, 2.0),
                (end, 2.0),
            ],
        }];
        let plot = plot(&series, TimeRange::Minutes15, end, Unit::PerSecond);
        let path = &plot.lines[0].path;
        assert!(
            path.starts_with(&format!("M{LEFT:.1},{:.1}", HEIGHT - BOTTOM)),
            "{path}"
        );
        assert_eq!(path.matches('M').count(), 2, "{path}");
        assert!(
            path.ends_with(&format!("{:.1},{:.1}", WIDTH - RIGHT, TOP)),
            "{path}"
        );
        assert_eq!(plot.lines[0].last, Some(2.0));
        assert_eq!(plot.y_ticks.last().map(|t| t.1.as_str()), Some("2/s"));
        assert_eq!(plot.x_ticks.len(), 4);
    }
}
