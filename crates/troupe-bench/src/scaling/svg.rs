//! A small SVG line chart (no dependency): cost against size, one line per framework, the size
//! on a log scale.

use std::fmt::Write as _;

/// One framework's line.
pub struct Line {
    /// Legend text.
    pub name: String,
    /// (size, value) points, sizes increasing.
    pub points: Vec<(f64, f64)>,
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 360.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 150.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 50.0;
const COLORS: [&str; 10] = [
    "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
    "#17becf", "#ff7f0e",
];

/// Renders the chart. The y axis is linear from 0, or logarithmic when the values span more
/// than two decades (so that a flat line and a growing one both read).
pub fn chart(title: &str, x_label: &str, y_label: &str, lines: &[Line]) -> String {
    let points = lines.iter().flat_map(|l| l.points.iter());
    let (mut x_min, mut x_max, mut y_min, mut y_max) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in points.filter(|(x, y)| x.is_finite() && y.is_finite() && *x > 0.0) {
        x_min = x_min.min(x);
        x_max = x_max.max(x);
        y_min = y_min.min(y);
        y_max = y_max.max(y);
    }
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         viewBox=\"0 0 {WIDTH} {HEIGHT}\" font-family=\"sans-serif\" font-size=\"12\">"
    );
    let _ = writeln!(
        svg,
        "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\
         <text x=\"{}\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">{}</text>",
        LEFT + (WIDTH - LEFT - RIGHT) / 2.0,
        escape(title)
    );
    if x_min > x_max {
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">no data</text></svg>",
            WIDTH / 2.0,
            HEIGHT / 2.0
        );
        return svg;
    }
    let log_y = y_min > 0.0 && y_max / y_min > 100.0;
    let (x_lo, x_hi) = (
        x_min.log10().floor(),
        x_max.log10().ceil().max(x_min.log10().floor() + 1.0),
    );
    let (y_lo, y_hi) = if log_y {
        (y_min.log10().floor(), y_max.log10().ceil())
    } else {
        (0.0, nice_ceiling(y_max))
    };
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let px = |x: f64| LEFT + (x.log10() - x_lo) / (x_hi - x_lo) * plot_w;
    let py = |y: f64| {
        let v = if log_y {
            y.max(f64::MIN_POSITIVE).log10()
        } else {
            y
        };
        TOP + plot_h - (v - y_lo) / (y_hi - y_lo).max(f64::MIN_POSITIVE) * plot_h
    };
    // Axes, grid and ticks.
    let _ = writeln!(
        svg,
        "<g stroke=\"#999\" fill=\"none\"><rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{plot_w}\" \
         height=\"{plot_h}\"/></g>"
    );
    let mut decade = x_lo;
    while decade <= x_hi + 1e-9 {
        let x = LEFT + (decade - x_lo) / (x_hi - x_lo) * plot_w;
        let _ = writeln!(
            svg,
            "<line x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"#eee\"/>\
             <text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            TOP + plot_h,
            TOP + plot_h + 16.0,
            short(10f64.powf(decade))
        );
        decade += 1.0;
    }
    let ticks: Vec<f64> = if log_y {
        (y_lo as i32..=y_hi as i32).map(|d| 10f64.powi(d)).collect()
    } else {
        (0..=4).map(|i| y_hi * f64::from(i) / 4.0).collect()
    };
    for t in ticks {
        let y = py(t);
        let _ = writeln!(
            svg,
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{}\" y2=\"{y:.1}\" stroke=\"#eee\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            LEFT + plot_w,
            LEFT - 6.0,
            y + 4.0,
            short(t)
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\
         <text x=\"16\" y=\"{}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {})\">{}{}</text>",
        LEFT + plot_w / 2.0,
        HEIGHT - 10.0,
        escape(x_label),
        TOP + plot_h / 2.0,
        TOP + plot_h / 2.0,
        escape(y_label),
        if log_y { " (log)" } else { "" }
    );
    // One polyline (and dots) per framework, and its legend entry.
    for (i, line) in lines.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let coords: Vec<String> = line
            .points
            .iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite() && *x > 0.0)
            .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
            .collect();
        if coords.is_empty() {
            continue;
        }
        let _ = writeln!(
            svg,
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>",
            coords.join(" ")
        );
        for c in &coords {
            let (x, y) = c.split_once(',').unwrap_or(("0", "0"));
            let _ = writeln!(
                svg,
                "<circle cx=\"{x}\" cy=\"{y}\" r=\"3\" fill=\"{color}\"/>"
            );
        }
        let ly = TOP + 10.0 + i as f64 * 18.0;
        let lx = LEFT + plot_w + 12.0;
        let _ = writeln!(
            svg,
            "<line x1=\"{lx}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{color}\" \
             stroke-width=\"2\"/><text x=\"{}\" y=\"{}\">{}</text>",
            lx + 18.0,
            lx + 24.0,
            ly + 4.0,
            escape(&line.name)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// The smallest 1, 2 or 5 × 10^k at least `v`.
fn nice_ceiling(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let k = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * k)
        .find(|c| *c >= v)
        .unwrap_or(10.0 * k)
}

/// 1200 → "1.2k", 1000000 → "1M".
fn short(v: f64) -> String {
    let (scaled, suffix) = if v >= 1e6 {
        (v / 1e6, "M")
    } else if v >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    if scaled.fract().abs() < 1e-9 || scaled >= 10.0 {
        format!("{scaled:.0}{suffix}")
    } else {
        let digits = format!("{scaled:.2}");
        let digits = digits.trim_end_matches('0').trim_end_matches('.');
        format!("{digits}{suffix}")
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_has_one_line_per_framework_and_reads_its_sizes() {
        let lines = vec![
            Line {
                name: "a".into(),
                points: vec![(10.0, 1.0), (100.0, 1.1), (1000.0, 1.2)],
            },
            Line {
                name: "b<c".into(),
                points: vec![(10.0, 2.0), (100.0, 4.0)],
            },
        ];
        let svg = chart("t", "actors", "ns", &lines);
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains(">1k<"), "{svg}");
        assert!(svg.contains("b&lt;c"));
        assert!(svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn no_data_is_said() {
        assert!(chart("t", "x", "y", &[]).contains("no data"));
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(short(1000.0), "1k");
        assert_eq!(short(1_000_000.0), "1M");
        assert_eq!(short(2.5), "2.5");
        assert_eq!(nice_ceiling(730.0), 1000.0);
        assert_eq!(nice_ceiling(130.0), 200.0);
    }
}
