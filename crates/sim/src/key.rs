//! Task identity by content, the random stream it implies, and the code fingerprint.
//!
//! A task is keyed by a stable hash of what defines it — the figure, the spec values its
//! computation depends on (the experiment's `context`), its point and its seed index — and
//! its random stream is seeded from that key. Its result therefore depends neither on the
//! thread count, nor on the order of execution, nor on the machine or shard that ran it, nor
//! on which other points or seeds the spec lists.

use gardner_models::rng::Rng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Fingerprint of the code that computes results (a hash of the library crates' sources
/// and of Cargo.lock, taken at build time). Cached results from other code are not reused.
pub const CODE_FINGERPRINT: &str = env!("GARDNER_CODE_FINGERPRINT");

/// Version of the key convention (part of every key).
const KEY_VERSION: &str = "gardner task key v2";

/// Stable 64-bit FNV-1a hash (independent of the Rust version, unlike `DefaultHasher`).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The content key of one task, written as 16 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct TaskKey(pub u64);

impl TaskKey {
    /// Key of seed `seed_index` at `point` of figure `figure` whose tasks depend on `context`
    /// (all as JSON; serialisation of these plain data types cannot fail).
    pub fn new(
        figure: &str,
        context: &serde_json::Value,
        point: &serde_json::Value,
        seed_index: usize,
    ) -> Self {
        let text = serde_json::to_string(&(KEY_VERSION, figure, context, point, seed_index))
            .expect("JSON values serialise");
        TaskKey(fnv1a(text.as_bytes()))
    }
    /// The task's random stream: Xoshiro256++ seeded from the key.
    pub fn stream(&self) -> Rng {
        Rng::seed_from_u64(self.0)
    }
}

impl fmt::Display for TaskKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl From<TaskKey> for String {
    fn from(k: TaskKey) -> String {
        k.to_string()
    }
}

impl TryFrom<String> for TaskKey {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        u64::from_str_radix(&s, 16)
            .map(TaskKey)
            .map_err(|e| format!("task key `{s}`: {e}"))
    }
}
