//! SVG timelines of failover runs: per run a panel with one lane per node (its Redis role as
//! the lane's colour, a stripe while it holds the VIP, another while a router carries its route
//! to a routed VIP) and a client lane (each write's
//! outcome), on a common time axis in ms from the fault, with markers for the run's events.

use std::fmt::Write;

/// What a stretch of a lane shows; each kind has its colour and legend entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Redis answers `ROLE` as master.
    Master,
    /// Redis answers `ROLE` as replica.
    Replica,
    /// Redis does not answer (dead, stopped, cut off).
    Unreachable,
    /// The node holds the VIP.
    Vip,
    /// A router carries the node's BGP announcement of a routed VIP.
    Route,
    /// A write acknowledged.
    WriteOk,
    /// A write answered READONLY.
    ReadOnly,
    /// A write refused or failed with another error.
    Error,
    /// A write that timed out.
    Timeout,
}

impl Kind {
    const ALL: [Kind; 9] = [
        Kind::Master,
        Kind::Replica,
        Kind::Unreachable,
        Kind::Vip,
        Kind::Route,
        Kind::WriteOk,
        Kind::ReadOnly,
        Kind::Error,
        Kind::Timeout,
    ];

    fn colour(self) -> &'static str {
        match self {
            Kind::Master => "#2e7d32",
            Kind::Replica => "#64b5f6",
            Kind::Unreachable => "#bdbdbd",
            Kind::Vip => "#ff9800",
            Kind::Route => "#8e24aa",
            Kind::WriteOk => "#66bb6a",
            Kind::ReadOnly => "#d32f2f",
            Kind::Error => "#616161",
            Kind::Timeout => "#212121",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Kind::Master => "master",
            Kind::Replica => "replica",
            Kind::Unreachable => "no answer",
            Kind::Vip => "holds VIP",
            Kind::Route => "route at a router",
            Kind::WriteOk => "write ok",
            Kind::ReadOnly => "READONLY",
            Kind::Error => "write error",
            Kind::Timeout => "write timeout",
        }
    }
}

/// A stretch `[from, to)` in ms from the fault.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Span {
    /// Start, ms.
    pub from: f64,
    /// End, ms.
    pub to: f64,
    /// What it shows.
    pub kind: Kind,
}

/// One node's lane.
#[derive(Clone, Debug, Default)]
pub struct NodeLane {
    /// Label at the left.
    pub label: String,
    /// The role over time (lane background).
    pub roles: Vec<Span>,
    /// When it held the VIP (stripe on top).
    pub vip: Vec<Span>,
    /// When a router carried its announcement of a routed VIP (stripe at the bottom).
    pub routes: Vec<Span>,
}

/// One run.
#[derive(Clone, Debug, Default)]
pub struct Panel {
    /// Heading of the panel.
    pub title: String,
    /// The node lanes.
    pub nodes: Vec<NodeLane>,
    /// The client's writes, merged into stretches of one outcome.
    pub client: Vec<Span>,
    /// Vertical markers: (ms, label).
    pub markers: Vec<(f64, String)>,
}

const WIDTH: f64 = 1100.0;
const LEFT: f64 = 110.0;
const RIGHT: f64 = 20.0;
const LANE: f64 = 18.0;
const GAP: f64 = 4.0;

/// Escapes text for SVG.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Renders `panels` over `[from, to]` ms as a standalone SVG document titled `title`.
pub fn render(title: &str, panels: &[Panel], from: f64, to: f64) -> String {
    let span = (to - from).max(1.0);
    let x = |ms: f64| LEFT + (ms.clamp(from, to) - from) / span * (WIDTH - LEFT - RIGHT);
    let mut body = String::new();
    let mut y = 56.0;
    // Legend.
    let mut lx = LEFT;
    for kind in Kind::ALL {
        let _ = write!(
            body,
            r#"<rect x="{lx:.1}" y="30" width="12" height="12" fill="{}"/><text x="{:.1}" y="40">{}</text>"#,
            kind.colour(),
            lx + 16.0,
            kind.label()
        );
        lx += 18.0 + 7.0 * kind.label().len() as f64 + 14.0;
    }
    for panel in panels {
        y += 18.0;
        let _ = write!(
            body,
            r#"<text x="4" y="{y:.1}" font-weight="bold">{}</text>"#,
            esc(&panel.title)
        );
        y += 8.0;
        let top = y;
        let bar = |body: &mut String, s: &Span, y: f64, h: f64| {
            let (x0, x1) = (x(s.from), x(s.to));
            if x1 > x0 {
                let _ = write!(
                    body,
                    r#"<rect x="{x0:.1}" y="{y:.1}" width="{:.2}" height="{h:.1}" fill="{}"/>"#,
                    (x1 - x0).max(0.6),
                    s.kind.colour()
                );
            }
        };
        for lane in &panel.nodes {
            let _ = write!(
                body,
                r#"<text x="4" y="{:.1}">{}</text>"#,
                y + 13.0,
                esc(&lane.label)
            );
            for s in &lane.roles {
                bar(&mut body, s, y + 5.0, LANE - 5.0);
            }
            for s in &lane.vip {
                bar(&mut body, s, y, 5.0);
            }
            for s in &lane.routes {
                bar(&mut body, s, y + LANE - 4.0, 4.0);
            }
            y += LANE + GAP;
        }
        let _ = write!(body, r#"<text x="4" y="{:.1}">client</text>"#, y + 11.0);
        for s in &panel.client {
            bar(&mut body, s, y, LANE - 4.0);
        }
        y += LANE;
        for (i, (ms, label)) in panel.markers.iter().enumerate() {
            let mx = x(*ms);
            let _ = write!(
                body,
                r##"<line x1="{mx:.1}" y1="{:.1}" x2="{mx:.1}" y2="{y:.1}" stroke="#6a1b9a" stroke-dasharray="3,2"/><text x="{:.1}" y="{:.1}" fill="#6a1b9a" font-size="10">{}</text>"##,
                top - 2.0,
                mx + 2.0,
                y + 11.0 + 10.0 * (i % 3) as f64,
                esc(label)
            );
        }
        y += 34.0;
    }
    // Time axis, one tick a second.
    let mut axis = String::new();
    let first = (from / 1000.0).ceil() as i64;
    let last = (to / 1000.0).floor() as i64;
    for s in first..=last {
        let tx = x(s as f64 * 1000.0);
        let _ = write!(
            axis,
            r##"<line x1="{tx:.1}" y1="50" x2="{tx:.1}" y2="{y:.1}" stroke="#eee"/><text x="{tx:.1}" y="{:.1}" text-anchor="middle" font-size="10">{s} s</text>"##,
            y + 12.0
        );
    }
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{:.0}" viewBox="0 0 {WIDTH} {:.0}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="4" y="18" font-size="15" font-weight="bold">{}</text>
{axis}
{body}
</svg>
"#,
        y + 20.0,
        y + 20.0,
        esc(title)
    )
}

/// Merges consecutive stretches of the same kind that touch (within `slack` ms).
pub fn merge(spans: impl IntoIterator<Item = Span>, slack: f64) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    for s in spans {
        match out.last_mut() {
            Some(last) if last.kind == s.kind && s.from - last.to <= slack => {
                last.to = s.to.max(last.to)
            }
            _ => out.push(s),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_touching_spans_of_one_kind() {
        let s = |from, to, kind| Span { from, to, kind };
        let merged = merge(
            [
                s(0.0, 1.0, Kind::WriteOk),
                s(5.0, 6.0, Kind::WriteOk),
                s(6.0, 7.0, Kind::Timeout),
                s(30.0, 31.0, Kind::Timeout),
            ],
            10.0,
        );
        assert_eq!(
            merged,
            vec![
                s(0.0, 6.0, Kind::WriteOk),
                s(6.0, 7.0, Kind::Timeout),
                s(30.0, 31.0, Kind::Timeout)
            ]
        );
    }

    #[test]
    fn renders_a_well_formed_document() {
        let panel = Panel {
            title: "a <b> & c".into(),
            nodes: vec![NodeLane {
                label: "node 0".into(),
                roles: vec![Span {
                    from: -500.0,
                    to: 900.0,
                    kind: Kind::Master,
                }],
                vip: vec![Span {
                    from: -500.0,
                    to: 100.0,
                    kind: Kind::Vip,
                }],
                routes: vec![Span {
                    from: -500.0,
                    to: 150.0,
                    kind: Kind::Route,
                }],
            }],
            client: vec![Span {
                from: 0.0,
                to: 50.0,
                kind: Kind::ReadOnly,
            }],
            markers: vec![(0.0, "fault".into())],
        };
        let svg = render("t", &[panel], -1000.0, 1000.0);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("a &lt;b&gt; &amp; c"));
        assert_eq!(
            svg.matches("<text").count() - svg.matches("</text>").count(),
            0
        );
    }
}
