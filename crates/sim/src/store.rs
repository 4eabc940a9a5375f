//! Task results as JSON lines: one self-describing record per finished task, appended and
//! flushed as it finishes, mergeable from any number of files (shards, machines, reruns).
//!
//! A record is reused only when both its [`TaskKey`] and its code fingerprint match the
//! current ones: a result from another spec or other code is never taken for a current one.
//! A half-written last line (an interrupted run) does not parse and is ignored.

use crate::Error;
use crate::key::{CODE_FINGERPRINT, TaskKey};
use gardner_models::run::Termination;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// What one task produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The observation (the experiment's `Obs` as JSON) and how the algorithm stopped.
    Done {
        obs: serde_json::Value,
        termination: Termination,
    },
    /// The task returned an error or panicked: the one-line reason.
    Failed(String),
}

/// One finished task.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskRecord {
    /// Content key of the task.
    pub key: TaskKey,
    /// Fingerprint of the code that computed it.
    pub code: String,
    /// Figure id.
    pub figure: String,
    /// The point (JSON) and seed index, for humans and for `merge` reports.
    pub point: serde_json::Value,
    pub seed_index: usize,
    /// The result.
    pub outcome: Outcome,
    /// Wall time of the task in seconds (a measurement, not part of the result).
    pub seconds: f64,
}

impl PartialEq for TaskRecord {
    fn eq(&self, o: &Self) -> bool {
        (&self.key, &self.code, &self.outcome) == (&o.key, &o.code, &o.outcome)
    }
}

/// Records of the current code, by key.
#[derive(Debug, Default, Clone)]
pub struct Store {
    records: HashMap<TaskKey, TaskRecord>,
}

impl Store {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
    /// Read every `*.jsonl` file in `dir` (recursively), keeping records of the current code
    /// (first one wins). A missing directory is an empty store.
    pub fn load_dir(dir: &Path) -> Result<Self, Error> {
        let mut s = Self::new();
        for f in jsonl_files(dir)? {
            s.load_file(&f)?;
        }
        Ok(s)
    }
    /// Read one JSON-lines file (unparsable lines are skipped).
    pub fn load_file(&mut self, path: &Path) -> Result<(), Error> {
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        for line in BufReader::new(File::open(path).map_err(io)?).lines() {
            let line = line.map_err(io)?;
            if let Ok(r) = serde_json::from_str::<TaskRecord>(&line) {
                self.insert(r);
            }
        }
        Ok(())
    }
    /// Add a record if it is of the current code and its key is new.
    pub fn insert(&mut self, r: TaskRecord) {
        if r.code == CODE_FINGERPRINT {
            self.records.entry(r.key).or_insert(r);
        }
    }
    /// The record of `key`, if any.
    pub fn get(&self, key: &TaskKey) -> Option<&TaskRecord> {
        self.records.get(key)
    }
    /// Number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }
    /// No records.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

/// Every `*.jsonl` file under `dir`, sorted (none if `dir` does not exist).
pub fn jsonl_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    fn walk(d: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for e in std::fs::read_dir(d)? {
            let p = e?.path();
            if p.is_dir() {
                walk(&p, out)?;
            } else if p.extension().is_some_and(|x| x == "jsonl") {
                out.push(p);
            }
        }
        Ok(())
    }
    if dir.exists() {
        walk(dir, &mut out).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    out.sort();
    Ok(out)
}

/// Appends records to a JSON-lines file, one `write` + flush per record.
pub struct Appender {
    file: File,
    path: PathBuf,
}

impl Appender {
    /// Open (create) `path` for appending.
    pub fn open(path: &Path) -> Result<Self, Error> {
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d).map_err(|source| Error::Io {
                path: d.to_path_buf(),
                source,
            })?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
        })
    }
    /// Append one record as a single line.
    pub fn append(&mut self, r: &TaskRecord) -> Result<(), Error> {
        let mut line = serde_json::to_string(r).map_err(|e| Error::Spec(e.to_string()))?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|_| self.file.flush())
            .map_err(|source| Error::Io {
                path: self.path.clone(),
                source,
            })
    }
}
