//! Long calls without the GIL, interruptible with Ctrl-C.
//!
//! The computation runs on a worker thread; the calling thread waits for it in slices of
//! [`SLICE`] with the GIL released (other Python threads run meanwhile) and re-attaches between
//! slices only to run `py.check_signals()`, so a KeyboardInterrupt is raised within a slice.
//! The Rust computations have no cancellation point: after an interrupt the worker finishes
//! in the background and its result is dropped (a figure run keeps its cache semantics).

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::Duration;

/// Longest wait between two signal checks.
pub const SLICE: Duration = Duration::from_millis(20);

/// The message of a panic payload.
fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Run `work` on a worker thread with the GIL released; Ctrl-C raises KeyboardInterrupt
/// promptly, a panic becomes a `RuntimeError`.
pub fn run<T, F>(py: Python<'_>, work: F) -> PyResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = channel();
    std::thread::Builder::new()
        .name("gardner-worker".into())
        .spawn(move || {
            // the receiver is gone after an interrupt: nothing to report then
            let _ = tx.send(catch_unwind(AssertUnwindSafe(work)));
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start a worker thread: {e}")))?;
    let mut rx = rx;
    loop {
        // the receiver moves into the detached closure and back (it is Send, not Sync)
        let (back, received) = py.detach(move || {
            let r = rx.recv_timeout(SLICE);
            (rx, r)
        });
        rx = back;
        match received {
            Ok(Ok(value)) => {
                // a Ctrl-C that arrived during the last slice interrupts this call, not
                // whatever Python runs next
                py.check_signals()?;
                return Ok(value);
            }
            Ok(Err(payload)) => {
                return Err(PyRuntimeError::new_err(format!(
                    "panic: {}",
                    panic_message(payload)
                )));
            }
            Err(RecvTimeoutError::Timeout) => py.check_signals()?,
            Err(RecvTimeoutError::Disconnected) => {
                return Err(PyRuntimeError::new_err(
                    "the worker thread ended without a result",
                ));
            }
        }
    }
}
