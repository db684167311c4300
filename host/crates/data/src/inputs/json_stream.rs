//! Streaming JSON: a top-level array is parsed element by element (never the whole file
//! at once), JSONL line by line. Each object comes with the line it starts on.

use std::cell::Cell;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::ops::ControlFlow;
use std::path::Path;
use std::rc::Rc;

use serde::de::{DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::DataError;
use crate::jsonvalue::{Bad, bad, kind};
use crate::report::SkipReason;

/// Callback per record: its first line and the object (or why it is not one).
pub(crate) type ObjectSink<'a> =
    dyn FnMut(u64, Result<Map<String, Value>, Bad>) -> Result<ControlFlow<()>, DataError> + 'a;

/// Streams the objects of a `.json` (array, or concatenated objects) or `.jsonl` file.
pub(crate) fn for_each_json_object(
    path: &Path,
    sink: &mut ObjectSink<'_>,
) -> Result<ControlFlow<()>, DataError> {
    let file = File::open(path).map_err(|e| DataError::open(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    if crate::inputs::extension(path) == "jsonl" {
        return jsonl(path, reader, sink);
    }
    // Sniff the first non-blank byte: `[` is an array, anything else a stream of values.
    let first = loop {
        let buf = reader.fill_buf().map_err(|e| DataError::read(path, e))?;
        if buf.is_empty() {
            break None;
        }
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => break Some(buf[i]),
            None => {
                let n = buf.len();
                reader.consume(n);
            }
        }
    };
    match first {
        None => {
            tracing::warn!("{} is empty", path.display());
            Ok(ControlFlow::Continue(()))
        }
        Some(b'[') => array(path, reader, sink),
        Some(_) => jsonl_like_stream(path, reader, sink),
    }
}

fn as_object(v: Value) -> Result<Map<String, Value>, Bad> {
    match v {
        Value::Object(m) => Ok(m),
        other => Err(bad(
            SkipReason::NotAnObject,
            format!("record is {}", kind(&other)),
        )),
    }
}

fn jsonl(
    path: &Path,
    reader: BufReader<File>,
    sink: &mut ObjectSink<'_>,
) -> Result<ControlFlow<()>, DataError> {
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| DataError::read(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed = serde_json::from_str::<Value>(&line)
            .map_err(|e| {
                bad(
                    SkipReason::InvalidJson,
                    format!("column {}: {e}", e.column()),
                )
            })
            .and_then(as_object);
        if sink(i as u64 + 1, parsed)?.is_break() {
            return Ok(ControlFlow::Break(()));
        }
    }
    Ok(ControlFlow::Continue(()))
}

fn json_error(path: &Path, e: &serde_json::Error) -> DataError {
    DataError::Json {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    }
}

/// Concatenated or pretty-printed top-level objects (a `.json` file that is really JSONL).
fn jsonl_like_stream(
    path: &Path,
    reader: BufReader<File>,
    sink: &mut ObjectSink<'_>,
) -> Result<ControlFlow<()>, DataError> {
    let tracker = Rc::new(Tracker::new(true));
    let read = TrackedRead {
        inner: reader,
        tracker: tracker.clone(),
    };
    for value in serde_json::Deserializer::from_reader(read).into_iter::<Value>() {
        let value = value.map_err(|e| json_error(path, &e))?;
        let line = tracker.start_line.get();
        tracker.awaiting.set(true);
        if sink(line, as_object(value))?.is_break() {
            return Ok(ControlFlow::Break(()));
        }
    }
    Ok(ControlFlow::Continue(()))
}

fn array(
    path: &Path,
    reader: BufReader<File>,
    sink: &mut ObjectSink<'_>,
) -> Result<ControlFlow<()>, DataError> {
    let tracker = Rc::new(Tracker::new(false));
    let read = TrackedRead {
        inner: reader,
        tracker: tracker.clone(),
    };
    let mut de = serde_json::Deserializer::from_reader(read);
    let mut outcome: Option<Result<ControlFlow<()>, DataError>> = None;
    let seed = ArraySeed {
        sink,
        tracker: &tracker,
        outcome: &mut outcome,
    };
    let parsed = seed.deserialize(&mut de);
    match outcome {
        // The sink stopped the read or failed: serde's complaint about the unread rest of
        // the array is expected and ignored.
        Some(Ok(ControlFlow::Break(()))) => Ok(ControlFlow::Break(())),
        Some(Err(e)) => Err(e),
        _ => {
            parsed.map_err(|e| json_error(path, &e))?;
            de.end().map_err(|e| json_error(path, &e))?;
            Ok(ControlFlow::Continue(()))
        }
    }
}

/// Line bookkeeping shared between the reader (which sees every byte serde consumes) and
/// the visitor (which knows where elements end).
struct Tracker {
    line: Cell<u64>,
    /// Waiting for the first byte of the next element.
    awaiting: Cell<bool>,
    /// Set once the array's `[` was read (arrays only).
    opened: Cell<bool>,
    start_line: Cell<u64>,
}

impl Tracker {
    fn new(opened: bool) -> Self {
        Tracker {
            line: Cell::new(1),
            awaiting: Cell::new(true),
            opened: Cell::new(opened),
            start_line: Cell::new(1),
        }
    }

    fn saw(&self, b: u8) {
        if !self.opened.get() {
            if b == b'[' {
                self.opened.set(true);
            }
        } else if self.awaiting.get() && !b.is_ascii_whitespace() && b != b',' {
            self.start_line.set(self.line.get());
            self.awaiting.set(false);
        }
        if b == b'\n' {
            self.line.set(self.line.get() + 1);
        }
    }
}

/// serde_json pulls bytes one at a time through this, so the tracker sees exactly what
/// has been parsed.
struct TrackedRead<R> {
    inner: R,
    tracker: Rc<Tracker>,
}

impl<R: Read> Read for TrackedRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            self.tracker.saw(b);
        }
        Ok(n)
    }
}

struct ArraySeed<'a, 'b> {
    sink: &'a mut ObjectSink<'b>,
    tracker: &'a Tracker,
    outcome: &'a mut Option<Result<ControlFlow<()>, DataError>>,
}

impl<'de> DeserializeSeed<'de> for ArraySeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ArraySeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(value) = seq.next_element::<Value>()? {
            let line = self.tracker.start_line.get();
            self.tracker.awaiting.set(true);
            match (self.sink)(line, as_object(value)) {
                Ok(ControlFlow::Continue(())) => {}
                stop => {
                    *self.outcome = Some(stop);
                    return Ok(());
                }
            }
        }
        *self.outcome = Some(Ok(ControlFlow::Continue(())));
        Ok(())
    }
}
