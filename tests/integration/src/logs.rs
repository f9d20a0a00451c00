//! Captures every log line the process emits, so tests can prove no secret is ever logged.

use std::io::Write;
use std::sync::{Mutex, OnceLock};

static CAPTURED: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();

struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURED
            .get_or_init(Default::default)
            .lock()
            .unwrap()
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the capturing subscriber for this test binary (once), at DEBUG for every crate:
/// the AWS SDK, hyper and reqwest included.
pub fn capture() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
            .with_writer(|| Capture)
            .with_ansi(false)
            .try_init();
    });
}

/// Everything captured so far.
pub fn captured() -> String {
    String::from_utf8_lossy(&CAPTURED.get_or_init(Default::default).lock().unwrap()).into_owned()
}
