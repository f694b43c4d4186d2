//! One list across every registered cluster: the Deployments the signed-in user may see on each,
//! streamed as each cluster answers, so a slow or unreachable cluster costs only its own
//! deadline and never holds up the others' rows.
//!
//! The stream is newline-delimited JSON ([`ListLine`] per line): first the clusters that will be
//! asked, then one line per cluster with its rows or why it has none.

use serde::{Deserialize, Serialize};

use crate::ConsoleError;

/// How long one cluster may take to answer before it is shown as timed out (kube-rs' own
/// defaults would let it hold the list for its 30 s connect or 295 s read timeout).
pub const PER_CLUSTER_DEADLINE_MS: u64 = 2_000;

/// One Deployment as the list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentRow {
    pub cluster: String,
    pub namespace: String,
    pub name: String,
    /// Replicas asked for (`spec.replicas`, 1 when unset).
    pub desired: i32,
    pub ready: i32,
    pub updated: i32,
    pub available: i32,
    /// The containers' images, in order.
    pub images: Vec<String>,
    /// RFC 3339 creation time.
    pub created: Option<String>,
}

impl DeploymentRow {
    /// Every replica asked for is ready and up to date.
    pub fn is_ready(&self) -> bool {
        self.ready >= self.desired && self.updated >= self.desired
    }
}

/// What one cluster answered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum ClusterAnswer {
    /// Its rows. `namespaces` is set when the user may not list cluster-wide and the rows are
    /// those of the namespaces they may see (how many were asked).
    Rows {
        cluster: String,
        rows: Vec<DeploymentRow>,
        namespaces: Option<usize>,
        elapsed_ms: u64,
    },
    /// No answer within the deadline.
    TimedOut { cluster: String, after_ms: u64 },
    /// The cluster refused or failed (forbidden, unreachable, ...).
    Failed {
        cluster: String,
        error: ConsoleError,
        elapsed_ms: u64,
    },
}

impl ClusterAnswer {
    pub fn cluster(&self) -> &str {
        match self {
            ClusterAnswer::Rows { cluster, .. }
            | ClusterAnswer::TimedOut { cluster, .. }
            | ClusterAnswer::Failed { cluster, .. } => cluster,
        }
    }
}

/// One line of the stream.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "line", rename_all = "camelCase")]
pub enum ListLine {
    /// The clusters that will be asked, before any answer.
    Clusters {
        names: Vec<String>,
        deadline_ms: u64,
    },
    /// One cluster's answer.
    Answer(ClusterAnswer),
}

impl ListLine {
    /// The line as sent: its JSON and a newline.
    /// Non-ASCII characters are escaped (`\u00e9`), so a reader that decodes each chunk of
    /// bytes on its own (the browser's stream reader does) never sees half a character.
    pub fn to_line(&self) -> String {
        // A line holds strings and numbers only: it always serialises.
        let json = serde_json::to_string(self).unwrap_or_default();
        let mut text = String::with_capacity(json.len() + 1);
        for c in json.chars() {
            if c.is_ascii() {
                text.push(c);
            } else {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    text.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
        text.push('\n');
        text
    }
}

/// Splits chunks of the stream (which need not end at a line's end) into lines, and reads them.
#[derive(Default, Debug)]
pub struct LineReader {
    rest: String,
}

impl LineReader {
    /// The complete lines `chunk` finishes, read; the unfinished tail waits for the next chunk.
    pub fn push(&mut self, chunk: &str) -> Vec<Result<ListLine, ConsoleError>> {
        self.rest.push_str(chunk);
        let mut lines = Vec::new();
        while let Some(end) = self.rest.find('\n') {
            let line: String = self.rest.drain(..=end).collect();
            let line = line.trim();
            if !line.is_empty() {
                lines.push(
                    serde_json::from_str(line).map_err(|e| ConsoleError::Request {
                        message: format!("an unreadable line in the list across clusters: {e}"),
                    }),
                );
            }
        }
        lines
    }

    /// Whether the stream ended in the middle of a line (it was cut off).
    pub fn is_cut_off(&self) -> bool {
        !self.rest.trim().is_empty()
    }
}

/// Where one cluster is while the list comes in.
#[derive(Clone, Debug, PartialEq)]
pub enum ClusterProgress {
    Waiting,
    Answered {
        rows: usize,
        namespaces: Option<usize>,
        elapsed_ms: u64,
    },
    TimedOut {
        after_ms: u64,
    },
    Failed {
        error: ConsoleError,
    },
}

/// The list as it stands: every cluster's progress (in the order they were named) and the rows
/// so far.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListProgress {
    /// The first line (the clusters to be asked) has arrived.
    pub started: bool,
    pub clusters: Vec<(String, ClusterProgress)>,
    pub rows: Vec<DeploymentRow>,
    pub deadline_ms: u64,
}

impl ListProgress {
    /// Takes one line in. An answer from a cluster not named first is added at the end.
    pub fn apply(&mut self, line: ListLine) {
        match line {
            ListLine::Clusters { names, deadline_ms } => {
                self.started = true;
                self.deadline_ms = deadline_ms;
                for name in names {
                    if !self.clusters.iter().any(|(n, _)| *n == name) {
                        self.clusters.push((name, ClusterProgress::Waiting));
                    }
                }
            }
            ListLine::Answer(answer) => {
                let name = answer.cluster().to_string();
                let progress = match answer {
                    ClusterAnswer::Rows {
                        rows,
                        namespaces,
                        elapsed_ms,
                        ..
                    } => {
                        let count = rows.len();
                        self.rows.retain(|r| r.cluster != name);
                        self.rows.extend(rows);
                        ClusterProgress::Answered {
                            rows: count,
                            namespaces,
                            elapsed_ms,
                        }
                    }
                    ClusterAnswer::TimedOut { after_ms, .. } => {
                        ClusterProgress::TimedOut { after_ms }
                    }
                    ClusterAnswer::Failed { error, .. } => ClusterProgress::Failed { error },
                };
                match self.clusters.iter_mut().find(|(n, _)| *n == name) {
                    Some(entry) => entry.1 = progress,
                    None => self.clusters.push((name, progress)),
                }
            }
        }
    }

    /// How many clusters have not answered yet.
    pub fn waiting(&self) -> usize {
        self.clusters
            .iter()
            .filter(|(_, p)| *p == ClusterProgress::Waiting)
            .count()
    }

    /// Every named cluster has answered, timed out or failed (with no cluster registered, as
    /// soon as the first line says so).
    pub fn is_complete(&self) -> bool {
        self.started && self.waiting() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cluster: &str, name: &str) -> DeploymentRow {
        DeploymentRow {
            cluster: cluster.into(),
            namespace: "team-a".into(),
            name: name.into(),
            desired: 2,
            ready: 2,
            updated: 2,
            available: 2,
            images: vec!["nginx:1.27".into()],
            created: None,
        }
    }

    fn lines() -> Vec<ListLine> {
        vec![
            ListLine::Clusters {
                names: vec!["east".into(), "west".into(), "slow".into()],
                deadline_ms: PER_CLUSTER_DEADLINE_MS,
            },
            ListLine::Answer(ClusterAnswer::Rows {
                cluster: "west".into(),
                rows: vec![row("west", "web")],
                namespaces: Some(1),
                elapsed_ms: 12,
            }),
            ListLine::Answer(ClusterAnswer::Failed {
                cluster: "east".into(),
                error: ConsoleError::Forbidden {
                    message: "deployments".into(),
                },
                elapsed_ms: 9,
            }),
            ListLine::Answer(ClusterAnswer::TimedOut {
                cluster: "slow".into(),
                after_ms: 2_000,
            }),
        ]
    }

    #[test]
    fn lines_survive_any_chunking() {
        let text: String = lines().iter().map(ListLine::to_line).collect();
        // Cut the text at every possible place: the lines read back the same.
        for cut in 0..text.len() {
            if !text.is_char_boundary(cut) {
                continue;
            }
            let mut reader = LineReader::default();
            let mut read = reader.push(&text[..cut]);
            read.extend(reader.push(&text[cut..]));
            let read: Vec<ListLine> = read.into_iter().map(Result::unwrap).collect();
            assert_eq!(read, lines(), "cut at {cut}");
            assert!(!reader.is_cut_off());
        }
    }

    #[test]
    fn lines_are_ascii_and_read_back_with_any_text() {
        let line = ListLine::Answer(ClusterAnswer::Failed {
            cluster: "east".into(),
            error: ConsoleError::Forbidden {
                message: "用户 “alice” 不能 list deployments 🚫".into(),
            },
            elapsed_ms: 3,
        });
        let text = line.to_line();
        assert!(text.is_ascii(), "{text}");
        let mut reader = LineReader::default();
        let Some(Ok(read)) = reader.push(&text).pop() else {
            panic!("{text} did not read back");
        };
        assert_eq!(read, line);
    }

    #[test]
    fn a_cut_off_stream_and_a_bad_line_are_named() {
        let mut reader = LineReader::default();
        let read = reader.push("not json\n{\"line\":\"clus");
        assert!(
            matches!(&read[..], [Err(ConsoleError::Request { message })] if message.contains("unreadable line"))
        );
        assert!(reader.is_cut_off());
    }

    #[test]
    fn progress_follows_each_cluster() {
        let mut progress = ListProgress::default();
        let [named, west, rest @ ..] = &lines()[..] else {
            panic!("four lines");
        };
        progress.apply(named.clone());
        assert_eq!(progress.waiting(), 3);
        assert!(!progress.is_complete());
        progress.apply(west.clone());
        assert_eq!(progress.rows, vec![row("west", "web")]);
        assert_eq!(progress.waiting(), 2);
        for line in rest {
            progress.apply(line.clone());
        }
        assert!(progress.is_complete());
        assert_eq!(
            progress.clusters,
            vec![
                (
                    "east".into(),
                    ClusterProgress::Failed {
                        error: ConsoleError::Forbidden {
                            message: "deployments".into()
                        }
                    }
                ),
                (
                    "west".into(),
                    ClusterProgress::Answered {
                        rows: 1,
                        namespaces: Some(1),
                        elapsed_ms: 12
                    }
                ),
                ("slow".into(), ClusterProgress::TimedOut { after_ms: 2_000 }),
            ]
        );
    }

    #[test]
    fn no_cluster_to_ask_is_complete_at_once() {
        let mut progress = ListProgress::default();
        assert!(!progress.is_complete(), "nothing has arrived yet");
        progress.apply(ListLine::Clusters {
            names: vec![],
            deadline_ms: PER_CLUSTER_DEADLINE_MS,
        });
        assert!(progress.is_complete());
    }

    #[test]
    fn a_second_answer_replaces_the_first_rows() {
        let mut progress = ListProgress::default();
        for rows in [
            vec![row("east", "a"), row("east", "b")],
            vec![row("east", "c")],
        ] {
            progress.apply(ListLine::Answer(ClusterAnswer::Rows {
                cluster: "east".into(),
                rows,
                namespaces: None,
                elapsed_ms: 1,
            }));
        }
        assert_eq!(progress.rows, vec![row("east", "c")]);
        assert_eq!(progress.clusters.len(), 1);
    }

    #[test]
    fn readiness_counts_updated_replicas() {
        let mut r = row("east", "web");
        assert!(r.is_ready());
        r.updated = 1;
        assert!(!r.is_ready());
    }
}
