//! The console's live streams as `ac` reads them: Server-Sent Events (`/api/live/watch`, the
//! stream the pages follow too; a bearer token opens it as it opens the server functions), read
//! line by line from a blocking response. The event names are `console_api::watch::event`'s.
//! `ac` keeps to this SSE endpoint (the browser may multiplex its streams over a WebSocket):
//! plain HTTP that any proxy passes and that needs no second protocol in the CLI.

use std::io::BufRead;

/// One thing the stream said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// An event: its name (`message` when it gave none) and its data (lines joined by `\n`).
    Event { name: String, data: String },
    /// A comment line: the console's keep-alive, proof that the stream is still there.
    KeepAlive,
}

/// Reads the items of an SSE stream as the specification frames them: `event:` and `data:`
/// fields, a blank line ends an event, a line starting with `:` is a comment.
pub struct Events<R> {
    reader: R,
    name: String,
    data: Vec<String>,
}

impl<R: BufRead> Events<R> {
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            name: String::new(),
            data: Vec::new(),
        }
    }

    /// The next item; `Ok(None)` when the stream ended, `Err` when reading failed (or timed
    /// out: the console sends a keep-alive every 15 s).
    pub fn next_item(&mut self) -> std::io::Result<Option<Item>> {
        let mut line = String::new();
        loop {
            line.clear();
            if self.reader.read_line(&mut line)? == 0 {
                return Ok(None);
            }
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if self.data.is_empty() && self.name.is_empty() {
                    continue;
                }
                let name = std::mem::take(&mut self.name);
                let data = std::mem::take(&mut self.data).join("\n");
                return Ok(Some(Item::Event {
                    name: if name.is_empty() {
                        "message".into()
                    } else {
                        name
                    },
                    data,
                }));
            }
            if line.starts_with(':') {
                return Ok(Some(Item::KeepAlive));
            }
            let (field, value) = match line.split_once(':') {
                Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
                None => (line, ""),
            };
            match field {
                "event" => self.name = value.to_string(),
                "data" => self.data.push(value.to_string()),
                // `id` and `retry` matter to browsers reconnecting on their own; ac reconnects
                // itself and reads the object again, so it needs neither.
                _ => {}
            }
        }
    }
}

/// Waits between reconnections: 0.5 s, doubling to at most 15 s, back to the start once a
/// stream works again.
#[derive(Clone, Debug, Default)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    pub fn next_wait(&mut self) -> std::time::Duration {
        let wait = 500u64.saturating_mul(1 << self.failures.min(5)).min(15_000);
        self.failures = self.failures.saturating_add(1);
        std::time::Duration::from_millis(wait)
    }

    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &str) -> Vec<Item> {
        let mut events = Events::new(std::io::Cursor::new(text.as_bytes().to_vec()));
        let mut out = Vec::new();
        while let Ok(Some(item)) = events.next_item() {
            out.push(item);
        }
        out
    }

    fn event(name: &str, data: &str) -> Item {
        Item::Event {
            name: name.into(),
            data: data.into(),
        }
    }

    #[test]
    fn events_are_framed_as_the_console_sends_them() {
        let stream = "event: ready\ndata: {}\n\n:\n\nevent: change\ndata: {\"action\":\"applied\",\"name\":\"east\"}\n\nevent:refused\r\ndata:no\r\ndata: more\r\n\r\ndata: plain\n\n";
        assert_eq!(
            items(stream),
            [
                event("ready", "{}"),
                Item::KeepAlive,
                event("change", r#"{"action":"applied","name":"east"}"#),
                event("refused", "no\nmore"),
                event("message", "plain"),
            ]
        );
        // A stream cut in the middle of an event does not deliver it.
        assert_eq!(items("event: change\ndata: {}"), []);
    }

    #[test]
    fn reconnections_back_off_to_15_seconds_and_reset() {
        let mut backoff = Backoff::default();
        let waits: Vec<u64> = (0..8)
            .map(|_| backoff.next_wait().as_millis() as u64)
            .collect();
        assert_eq!(waits, [500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
        backoff.reset();
        assert_eq!(backoff.next_wait().as_millis(), 500);
    }
}
