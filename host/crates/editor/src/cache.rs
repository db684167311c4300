//! The persistent response cache: one SQLite file mapping a request's key (see
//! [`crate::Editor`] for what it covers) to the successful reply, so a re-run costs nothing.
//!
//! One connection per open cache, behind a mutex, used from blocking tasks; WAL mode and a
//! busy timeout let several processes share the file (two `vapr generate` runs pointing at
//! the same cache). Only successful replies are stored; the first stored reply for a key
//! wins, so concurrent writers of the same prompt agree on what later runs read.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::CacheError;
use crate::prompt::Usage;

/// How long a writer waits for another process's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS replies (
    key           TEXT PRIMARY KEY,
    request       TEXT NOT NULL,
    sample        INTEGER NOT NULL,
    text          TEXT NOT NULL,
    model         TEXT NOT NULL,
    usage         TEXT,
    finish_reason TEXT,
    created_unix  INTEGER NOT NULL
);";

/// A reply as stored in the cache.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedReply {
    /// The assistant text.
    pub text: String,
    /// The model that answered.
    pub model: String,
    /// Token usage, when the server reported it.
    pub usage: Option<Usage>,
    /// Why generation stopped.
    pub finish_reason: Option<String>,
}

/// A handle on the cache file; cheap to clone, safe to share between tasks.
#[derive(Debug, Clone)]
pub struct ResponseCache {
    path: PathBuf,
    conn: Arc<Mutex<Connection>>,
}

impl ResponseCache {
    /// Opens (creating it and its directory if needed) the cache at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, CacheError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| CacheError::CreateDir {
                path: path.clone(),
                source,
            })?;
        }
        let sqlite = |action: &'static str| {
            let path = path.clone();
            move |source: rusqlite::Error| CacheError::Sqlite {
                path,
                action,
                source,
            }
        };
        let conn = Connection::open(&path).map_err(sqlite("open"))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(sqlite("set the busy timeout"))?;
        // WAL lets readers proceed while another process writes.
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))
            .map_err(sqlite("enable WAL"))?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sqlite("set synchronous"))?;
        conn.execute_batch(SCHEMA)
            .map_err(sqlite("create the table"))?;
        Ok(Self {
            path,
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// The cache file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The reply stored under `key`, if any.
    pub fn get(&self, key: &str) -> Result<Option<CachedReply>, CacheError> {
        let conn = self.lock();
        let row = conn
            .query_row(
                "SELECT text, model, usage, finish_reason FROM replies WHERE key = ?1",
                params![key],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, Option<String>>(2)?,
                        row.get::<_, Option<String>>(3)?,
                    ))
                },
            )
            .optional()
            .map_err(|source| self.sqlite_error("read", source))?;
        let Some((text, model, usage, finish_reason)) = row else {
            return Ok(None);
        };
        let usage = usage
            .map(|json| serde_json::from_str::<Usage>(&json))
            .transpose()
            .map_err(|e| CacheError::Corrupt {
                path: self.path.clone(),
                key: key.to_owned(),
                reason: format!("bad usage JSON: {e}"),
            })?;
        Ok(Some(CachedReply {
            text,
            model,
            usage,
            finish_reason,
        }))
    }

    /// Stores `reply` under `key` unless an entry exists; returns whether it was inserted.
    /// `request` (the JSON body sent) and `sample` are kept for auditing the file.
    pub fn put(
        &self,
        key: &str,
        request: &str,
        sample: u32,
        reply: &CachedReply,
    ) -> Result<bool, CacheError> {
        let usage = reply
            .usage
            .map(|u| serde_json::to_string(&u).expect("usage serialises"));
        let created = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let inserted = self
            .lock()
            .execute(
                "INSERT OR IGNORE INTO replies
                 (key, request, sample, text, model, usage, finish_reason, created_unix)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    key,
                    request,
                    sample,
                    reply.text,
                    reply.model,
                    usage,
                    reply.finish_reason,
                    created
                ],
            )
            .map_err(|source| self.sqlite_error("write", source))?;
        Ok(inserted == 1)
    }

    /// Number of stored replies.
    pub fn len(&self) -> Result<u64, CacheError> {
        self.lock()
            .query_row("SELECT COUNT(*) FROM replies", [], |row| {
                row.get::<_, i64>(0)
            })
            .map(|n| n as u64)
            .map_err(|source| self.sqlite_error("count", source))
    }

    /// Whether the cache holds no reply.
    pub fn is_empty(&self) -> Result<bool, CacheError> {
        Ok(self.len()? == 0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (each statement is atomic).
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn sqlite_error(&self, action: &'static str, source: rusqlite::Error) -> CacheError {
        CacheError::Sqlite {
            path: self.path.clone(),
            action,
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(text: &str) -> CachedReply {
        CachedReply {
            text: text.into(),
            model: "gpt-4o-2024-08-06".into(),
            usage: Some(Usage {
                prompt_tokens: 5,
                completion_tokens: 2,
                total_tokens: 7,
            }),
            finish_reason: Some("stop".into()),
        }
    }

    #[test]
    fn test_round_trip_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/cache.sqlite");
        {
            let cache = ResponseCache::open(&path).unwrap();
            assert!(cache.is_empty().unwrap());
            assert!(cache.put("k1", "{}", 0, &reply("three dogs")).unwrap());
            assert_eq!(cache.get("missing").unwrap(), None);
        }
        let cache = ResponseCache::open(&path).unwrap();
        assert_eq!(cache.get("k1").unwrap(), Some(reply("three dogs")));
        assert_eq!(cache.len().unwrap(), 1);
    }

    #[test]
    fn test_first_writer_wins() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ResponseCache::open(dir.path().join("c.sqlite")).unwrap();
        assert!(cache.put("k", "{}", 0, &reply("first")).unwrap());
        assert!(!cache.put("k", "{}", 0, &reply("second")).unwrap());
        assert_eq!(cache.get("k").unwrap().unwrap().text, "first");
    }

    #[test]
    fn test_two_handles_on_one_file_share_entries_under_concurrency() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite");
        let a = ResponseCache::open(&path).unwrap();
        let b = ResponseCache::open(&path).unwrap();
        std::thread::scope(|scope| {
            for (t, cache) in [&a, &b, &a, &b].into_iter().enumerate() {
                scope.spawn(move || {
                    for i in 0..25 {
                        let key = format!("k{}", (t * 25 + i) % 60);
                        cache.put(&key, "{}", 0, &reply(&key)).unwrap();
                    }
                });
            }
        });
        assert_eq!(a.len().unwrap(), 60);
        assert_eq!(b.get("k59").unwrap().unwrap().text, "k59");
    }

    #[test]
    fn test_unopenable_path_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be.
        let err = ResponseCache::open(dir.path()).unwrap_err();
        assert!(
            err.to_string().contains(&dir.path().display().to_string()),
            "{err}"
        );
    }
}
