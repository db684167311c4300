//! The run ledger: one SQLite row per processed sample, next to the output file
//! (`OUT.jsonl.ledger.sqlite`), so that a killed run resumes where it stopped.
//!
//! Samples are numbered by their position among the Stage-1 survivors (`seq`) and are
//! finished strictly in that order, so the ledger is always a prefix `0..n`. Each row
//! stores the output file's length after the sample (`offset_end`). The output line is
//! written *before* the row is committed; on start, [`Ledger::reconcile`] cuts the output
//! back to the last committed length, which removes a line written just before a crash
//! (it is regenerated identically) and any partial last line.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::PipelineError;

/// What happened to one sample.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerRow {
    pub seq: u64,
    pub id: String,
    /// `written`, `failed` or `skipped`.
    pub status: String,
    pub category: Option<String>,
    /// Summary key of a failure or skip.
    pub reason: Option<String>,
    pub detail: Option<String>,
    pub offset_end: u64,
    pub token_gap: Option<u64>,
    pub levenshtein: Option<u64>,
    pub attempts: u32,
    /// How the category was decided (`hint`, `fit:…`, `llm:…`).
    pub decided_by: Option<String>,
}

/// An open ledger.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
}

/// The ledger path for an output file.
pub fn ledger_path(output: &Path) -> PathBuf {
    let mut name = output.file_name().unwrap_or_default().to_os_string();
    name.push(".ledger.sqlite");
    output.with_file_name(name)
}

impl Ledger {
    /// Opens (or creates) the ledger of `output`. `fingerprint` identifies the run's
    /// settings; resuming with a different one is refused, since the output would mix
    /// two configurations.
    pub fn open(output: &Path, fingerprint: &str) -> Result<Self, PipelineError> {
        let path = ledger_path(output);
        let existed = path.exists();
        let err = |e: rusqlite::Error| PipelineError::Ledger {
            path: path.clone(),
            message: e.to_string(),
        };
        let conn = Connection::open(&path).map_err(err)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS outcomes (
                 seq INTEGER PRIMARY KEY,
                 id TEXT NOT NULL,
                 status TEXT NOT NULL,
                 category TEXT,
                 reason TEXT,
                 detail TEXT,
                 offset_end INTEGER NOT NULL,
                 token_gap INTEGER,
                 levenshtein INTEGER,
                 attempts INTEGER NOT NULL,
                 decided_by TEXT
             );",
        )
        .map_err(err)?;
        let stored: Option<String> = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'fingerprint'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?;
        match stored {
            Some(f) if f != fingerprint => {
                return Err(PipelineError::LedgerMismatch {
                    path,
                    stored: f,
                    current: fingerprint.into(),
                });
            }
            Some(_) => {}
            None => {
                if existed && Self::count(&conn).map_err(err)? > 0 {
                    return Err(PipelineError::Ledger {
                        path,
                        message: "ledger has rows but no fingerprint".into(),
                    });
                }
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('fingerprint', ?1)",
                    [fingerprint],
                )
                .map_err(err)?;
            }
        }
        Ok(Ledger { conn, path })
    }

    fn count(conn: &Connection) -> rusqlite::Result<u64> {
        conn.query_row("SELECT COUNT(*) FROM outcomes", [], |r| r.get(0))
    }

    fn err(&self, e: rusqlite::Error) -> PipelineError {
        PipelineError::Ledger {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    /// Brings the ledger and the output file into agreement and returns the number of
    /// samples already done. Output bytes past the last committed row are cut off; if the
    /// output is shorter than the ledger says (lost after an OS crash), the ledger rows
    /// past it are dropped and redone.
    pub fn reconcile(&mut self, output: &Path) -> Result<u64, PipelineError> {
        let io = |e: std::io::Error| PipelineError::Io {
            path: output.to_path_buf(),
            source: e,
        };
        let len = match std::fs::metadata(output) {
            Ok(m) => m.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => return Err(io(e)),
        };
        let rows = Self::count(&self.conn).map_err(|e| self.err(e))?;
        if rows == 0 && len > 0 {
            return Err(PipelineError::OutputWithoutLedger {
                path: output.to_path_buf(),
            });
        }
        // Drop rows the output does not back (at most the tail lost in an OS crash).
        self.conn
            .execute("DELETE FROM outcomes WHERE offset_end > ?1", [len as i64])
            .map_err(|e| self.err(e))?;
        let done = Self::count(&self.conn).map_err(|e| self.err(e))?;
        let max_seq: Option<i64> = self
            .conn
            .query_row("SELECT MAX(seq) FROM outcomes", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        if max_seq.map_or(0, |m| m as u64 + 1) != done {
            return Err(PipelineError::Ledger {
                path: self.path.clone(),
                message: format!("ledger is not a prefix ({done} rows, last seq {max_seq:?})"),
            });
        }
        let keep: i64 = self
            .conn
            .query_row(
                "SELECT COALESCE(MAX(offset_end), 0) FROM outcomes",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        if (keep as u64) < len {
            tracing::info!(
                "cutting {} uncommitted byte(s) from the end of {}",
                len - keep as u64,
                output.display()
            );
            let f = OpenOptions::new().write(true).open(output).map_err(io)?;
            f.set_len(keep as u64).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        Ok(done)
    }

    /// The ids of rows `0..n`, to check that the input did not change under a resume.
    pub fn ids(&self) -> Result<Vec<String>, PipelineError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM outcomes ORDER BY seq")
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<String>, _>>()
            .map_err(|e| self.err(e))
    }

    /// Commits one outcome.
    pub fn record(&self, row: &LedgerRow) -> Result<(), PipelineError> {
        self.conn
            .execute(
                "INSERT INTO outcomes (seq, id, status, category, reason, detail, offset_end,
                                       token_gap, levenshtein, attempts, decided_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    row.seq as i64,
                    row.id,
                    row.status,
                    row.category,
                    row.reason,
                    row.detail,
                    row.offset_end as i64,
                    row.token_gap.map(|v| v as i64),
                    row.levenshtein.map(|v| v as i64),
                    row.attempts,
                    row.decided_by,
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Every row in order.
    pub fn rows(&self) -> Result<Vec<LedgerRow>, PipelineError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT seq, id, status, category, reason, detail, offset_end, token_gap,
                        levenshtein, attempts, decided_by FROM outcomes ORDER BY seq",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(LedgerRow {
                    seq: r.get::<_, i64>(0)? as u64,
                    id: r.get(1)?,
                    status: r.get(2)?,
                    category: r.get(3)?,
                    reason: r.get(4)?,
                    detail: r.get(5)?,
                    offset_end: r.get::<_, i64>(6)? as u64,
                    token_gap: r.get::<_, Option<i64>>(7)?.map(|v| v as u64),
                    levenshtein: r.get::<_, Option<i64>>(8)?.map(|v| v as u64),
                    attempts: r.get(9)?,
                    decided_by: r.get(10)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: u64, offset_end: u64) -> LedgerRow {
        LedgerRow {
            seq,
            id: format!("u#{seq}"),
            status: "written".into(),
            category: Some("color".into()),
            reason: None,
            detail: None,
            offset_end,
            token_gap: Some(1),
            levenshtein: Some(2),
            attempts: 1,
            decided_by: Some("hint".into()),
        }
    }

    #[test]
    fn reconcile_cuts_uncommitted_and_partial_lines() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.jsonl");
        let mut ledger = Ledger::open(&out, "fp").unwrap();
        assert_eq!(ledger.reconcile(&out).unwrap(), 0);
        std::fs::write(&out, "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n{\"d\"").unwrap();
        ledger.record(&row(0, 8)).unwrap();
        ledger.record(&row(1, 16)).unwrap();
        drop(ledger);
        let mut ledger = Ledger::open(&out, "fp").unwrap();
        assert_eq!(ledger.reconcile(&out).unwrap(), 2);
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "{\"a\":1}\n{\"b\":2}\n"
        );
        assert_eq!(ledger.ids().unwrap(), vec!["u#0", "u#1"]);
    }

    #[test]
    fn reconcile_drops_rows_the_output_lost() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.jsonl");
        let mut ledger = Ledger::open(&out, "fp").unwrap();
        std::fs::write(&out, "{\"a\":1}\n{\"b\"").unwrap();
        ledger.record(&row(0, 8)).unwrap();
        ledger.record(&row(1, 16)).unwrap();
        assert_eq!(ledger.reconcile(&out).unwrap(), 1);
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "{\"a\":1}\n");
    }

    #[test]
    fn a_different_configuration_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.jsonl");
        drop(Ledger::open(&out, "fp-1").unwrap());
        let err = Ledger::open(&out, "fp-2").err().unwrap();
        assert!(matches!(err, PipelineError::LedgerMismatch { .. }), "{err}");
    }

    #[test]
    fn output_without_ledger_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.jsonl");
        std::fs::write(&out, "{}\n").unwrap();
        let mut ledger = Ledger::open(&out, "fp").unwrap();
        assert!(matches!(
            ledger.reconcile(&out),
            Err(PipelineError::OutputWithoutLedger { .. })
        ));
    }
}
