//! Checkpoint and resume of a long particle-DMFT solve (config keys `checkpoint`,
//! `checkpoint_every`).
//!
//! Every `every` steps the [`Checkpointer`] observer writes the solver state and the observations
//! so far to the file, atomically (a temporary file, then a rename). A solve whose checkpoint
//! file exists resumes from it — after checking that it was written for the same physics,
//! algorithm, time step, particles and seed (a longer horizon is allowed) — and continues, on a
//! driver started at the checkpoint's step ([`gardner_models::run::Driver::start_at`]), to the
//! bit-identical result of an uninterrupted solve.

use super::gen_error::GenError;
use super::params::Observation;
use super::solver::{Dmft, Setup};
use crate::error::Error;
use gardner_models::SampleLoss;
use gardner_models::run::Observer;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Default steps between checkpoints.
pub const DEFAULT_EVERY: usize = 100;

/// The file: the state at step k and the observations of steps 0..k.
#[derive(Deserialize)]
struct File<L> {
    observations: Vec<Observation>,
    state: Dmft<L>,
}

/// [`File`] by reference, for writing without a copy of the state.
#[derive(Serialize)]
struct FileRef<'a, L> {
    observations: &'a [Observation],
    state: &'a Dmft<L>,
}

fn io(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Checkpoint {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// A resumed solver and the observations of the steps before its current one.
pub type Resumed<L> = (Dmft<L>, Vec<Observation>);

/// The state and observations of steps 0..k from `path`, when it exists and was written for
/// `setup` (its time grid may be shorter).
pub fn load<L>(path: &Path, setup: &Setup<L>) -> Result<Option<Resumed<L>>, Error>
where
    L: SampleLoss + PartialEq + DeserializeOwned,
{
    if !path.exists() {
        return Ok(None);
    }
    let f = std::fs::File::open(path).map_err(|e| io(path, e))?;
    let file: File<L> =
        serde_json::from_reader(std::io::BufReader::new(f)).map_err(|e| io(path, e))?;
    let saved = file.state.setup();
    let same = saved.grid.dt() == setup.grid.dt()
        && Setup {
            grid: setup.grid,
            ..*saved
        } == *setup;
    if !same {
        return Err(io(
            path,
            "written for another configuration (delete it to start afresh)",
        ));
    }
    let mut state = file.state;
    state.set_grid(setup.grid);
    Ok(Some((state, file.observations)))
}

/// An [`Observer`] of every step that writes a checkpoint every `every` steps (counted from the
/// start of the uninterrupted run); `history` holds the observations before the run's first
/// step. A failed write ends the run with [`Error::Checkpoint`].
pub struct Checkpointer {
    path: PathBuf,
    every: usize,
    history: Vec<Observation>,
}

impl Checkpointer {
    /// Checkpoints to `path` every `every` (≥ 1) steps, after the observations `history`.
    pub fn new(path: &Path, every: usize, history: Vec<Observation>) -> Self {
        Self {
            path: path.to_path_buf(),
            every: every.max(1),
            history,
        }
    }

    fn write<L: Serialize>(&self, state: &Dmft<L>) -> Result<(), Error> {
        let tmp = self.path.with_extension("tmp");
        let f = std::fs::File::create(&tmp).map_err(|e| io(&tmp, e))?;
        let file = FileRef {
            observations: &self.history[..self.history.len() - 1],
            state,
        };
        serde_json::to_writer(std::io::BufWriter::new(f), &file).map_err(|e| io(&tmp, e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| io(&self.path, e))
    }
}

impl<L: GenError + Serialize> Observer<Dmft<L>> for Checkpointer {
    fn observe(&mut self, k: usize, state: &Dmft<L>, o: &Observation) -> Result<(), Error> {
        self.history.push(*o);
        if k > 0 && k.is_multiple_of(self.every) {
            self.write(state)?;
        }
        Ok(())
    }
}
