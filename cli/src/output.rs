//! Output: aligned tables with stable columns (`-o table`, `-o wide`), JSON and YAML of the
//! console's own answers, colour only on a terminal (never with `NO_COLOR`), and progress on
//! stderr only when it is a terminal.

use std::io::IsTerminal as _;

use anstyle::{AnsiColor, Style};
use serde::Serialize;

use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people; the columns and their order are stable.
    #[default]
    Table,
    /// The table with more columns.
    Wide,
    /// The console's answer as JSON.
    Json,
    /// The console's answer as YAML.
    Yaml,
}

/// How a cell reads at a glance; coloured on a terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Plain,
    Good,
    Busy,
    Bad,
    Dim,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub tone: Tone,
}

impl Cell {
    pub fn plain(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            tone: Tone::Plain,
        }
    }

    pub fn toned(text: impl Into<String>, tone: Tone) -> Self {
        Self {
            text: text.into(),
            tone,
        }
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell::plain(text)
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Cell::plain(text)
    }
}

/// A table: headers in capitals, one row per object, columns separated by three spaces as
/// kubectl does; an empty cell shows as `<none>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(headers: &[&'static str]) -> Self {
        Self {
            headers: headers.to_vec(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }

    /// The table as text; `colour` styles the cells by their tone.
    pub fn render(&self, colour: bool) -> String {
        let text = |cell: &Cell| {
            if cell.text.is_empty() {
                "<none>".to_string()
            } else {
                cell.text.replace(['\n', '\t'], " ")
            }
        };
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(text(cell).chars().count());
                }
            }
        }
        let mut out = String::new();
        let line = |cells: Vec<(String, Tone)>, out: &mut String| {
            let last = cells.len().saturating_sub(1);
            for (i, (cell, tone)) in cells.into_iter().enumerate() {
                let pad = widths
                    .get(i)
                    .copied()
                    .unwrap_or(0)
                    .saturating_sub(cell.chars().count());
                out.push_str(&paint(&cell, tone, colour));
                if i < last {
                    out.push_str(&" ".repeat(pad + 3));
                }
            }
            out.push('\n');
        };
        line(
            self.headers
                .iter()
                .map(|h| (h.to_string(), Tone::Plain))
                .collect(),
            &mut out,
        );
        for row in &self.rows {
            line(row.iter().map(|c| (text(c), c.tone)).collect(), &mut out);
        }
        out
    }
}

/// Whether to colour what goes to stdout: a terminal, and `NO_COLOR` unset.
pub fn colour_stdout() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Whether to colour what goes to stderr.
pub fn colour_stderr() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

pub fn paint(text: &str, tone: Tone, colour: bool) -> String {
    let style = match tone {
        Tone::Plain => return text.to_string(),
        Tone::Good => Style::new().fg_color(Some(AnsiColor::Green.into())),
        Tone::Busy => Style::new().fg_color(Some(AnsiColor::Yellow.into())),
        Tone::Bad => Style::new().fg_color(Some(AnsiColor::Red.into())).bold(),
        Tone::Dim => Style::new().dimmed(),
    };
    if colour {
        format!("{style}{text}{style:#}")
    } else {
        text.to_string()
    }
}

pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string_pretty(value)
        .map(|mut s| {
            s.push('\n');
            s
        })
        .map_err(|e| Error::Http(format!("cannot write JSON: {e}")))
}

pub fn yaml<T: Serialize>(value: &T) -> Result<String> {
    serde_saphyr::to_string(value).map_err(|e| Error::Http(format!("cannot write YAML: {e}")))
}

/// Prints `value` as JSON or YAML, or the table `table` builds (wide or not).
pub fn print<T: Serialize>(
    format: Format,
    value: &T,
    table: impl FnOnce(bool) -> Table,
) -> Result<()> {
    let text = match format {
        Format::Json => json(value)?,
        Format::Yaml => yaml(value)?,
        Format::Table => table(false).render(colour_stdout()),
        Format::Wide => table(true).render(colour_stdout()),
    };
    print!("{text}");
    Ok(())
}

/// A spinner with `message` on stderr while a long call runs, when stderr is a terminal
/// (hidden otherwise, so logs and pipes get no control characters).
pub fn spinner(message: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(message.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// A bar of `len` steps on stderr when it is a terminal (hidden otherwise).
pub fn steps(len: u64, template: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// A warning on stderr.
pub fn warn(message: &str) {
    eprintln!(
        "{} {message}",
        paint("warning:", Tone::Busy, colour_stderr())
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_on_the_widest_cell_and_empty_cells_say_none() {
        let mut table = Table::new(&["NAME", "STATUS", "VERSION"]);
        table.row(vec![
            "east".into(),
            Cell::toned("Reachable", Tone::Good),
            "v1.34.4".into(),
        ]);
        table.row(vec![
            "long-name".into(),
            Cell::toned("Pending", Tone::Busy),
            "".into(),
        ]);
        assert_eq!(
            table.render(false),
            "NAME        STATUS      VERSION\n\
             east        Reachable   v1.34.4\n\
             long-name   Pending     <none>\n"
        );
    }

    #[test]
    fn colour_does_not_move_the_columns() {
        let mut table = Table::new(&["A", "B"]);
        table.row(vec![Cell::toned("ok", Tone::Good), "x".into()]);
        let coloured = table.render(true);
        assert!(coloured.contains("\u{1b}["), "{coloured:?}");
        let stripped: String = {
            let mut out = String::new();
            let mut chars = coloured.chars();
            while let Some(c) = chars.next() {
                if c == '\u{1b}' {
                    for c in chars.by_ref() {
                        if c == 'm' {
                            break;
                        }
                    }
                } else {
                    out.push(c);
                }
            }
            out
        };
        assert_eq!(stripped, table.render(false));
    }
}
