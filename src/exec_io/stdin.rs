//! Reading the process's stdin on a thread of its own that can be stopped: it waits in
//! `poll(2)` with a short timeout instead of a blocking `read(2)`, so once stopped it reads
//! nothing more. A thread blocked in `read` would swallow the first key typed into the console
//! after a shell closed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::mpsc;

/// How long the thread waits in `poll` before it looks at the stop flag again.
const TICK: Duration = Duration::from_millis(25);

/// What the reader saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chunk {
    /// Bytes as they came (keystrokes, or a pipe's data).
    Bytes(Vec<u8>),
    /// End of input (a pipe closed, ctrl-d on a cooked terminal).
    Eof,
    /// Reading failed.
    Error(String),
}

/// The stdin thread; [`StdinReader::stop`] (or drop) ends it within a tick.
pub struct StdinReader {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// What was read, in order.
    pub chunks: mpsc::Receiver<Chunk>,
}

impl StdinReader {
    /// Starts reading file descriptor 0.
    pub fn start() -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, chunks) = mpsc::channel(16);
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("hubdeck-stdin".into())
            .spawn(move || read_loop(&flag, &tx))?;
        Ok(Self {
            stop,
            thread: Some(thread),
            chunks,
        })
    }

    /// Stops the thread and waits for it: from the moment this returns, stdin is the
    /// console's again.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // A thread waiting for room in the channel sees it closed.
        self.chunks.close();
        while self.chunks.try_recv().is_ok() {}
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for StdinReader {
    fn drop(&mut self) {
        self.stop();
    }
}

fn read_loop(stop: &AtomicBool, tx: &mpsc::Sender<Chunk>) {
    let mut buf = vec![0u8; 16 << 10];
    while !stop.load(Ordering::SeqCst) {
        match wait_readable(TICK) {
            Ok(false) => continue,
            Ok(true) => {}
            Err(e) => {
                let _ = tx.blocking_send(Chunk::Error(format!("stdin: {e}")));
                return;
            }
        }
        if stop.load(Ordering::SeqCst) {
            return;
        }
        // SAFETY: reads at most buf.len() bytes into a buffer this function owns; fd 0 stays
        // open for the life of the process.
        let n = unsafe { libc::read(0, buf.as_mut_ptr().cast(), buf.len()) };
        let chunk = match n {
            0 => Chunk::Eof,
            n if n > 0 => Chunk::Bytes(buf[..n.unsigned_abs()].to_vec()),
            _ => {
                let e = std::io::Error::last_os_error();
                match e.kind() {
                    std::io::ErrorKind::Interrupted | std::io::ErrorKind::WouldBlock => continue,
                    _ => Chunk::Error(format!("stdin: {e}")),
                }
            }
        };
        let last = !matches!(chunk, Chunk::Bytes(_));
        if tx.blocking_send(chunk).is_err() || last {
            return;
        }
    }
}

/// Whether fd 0 has something to read (or is at its end) within `timeout`.
fn wait_readable(timeout: Duration) -> std::io::Result<bool> {
    let mut fds = [libc::pollfd {
        fd: 0,
        events: libc::POLLIN,
        revents: 0,
    }];
    let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: one pollfd in a local array, its length passed alongside.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), 1, ms) };
    if n < 0 {
        let e = std::io::Error::last_os_error();
        return if e.kind() == std::io::ErrorKind::Interrupted {
            Ok(false)
        } else {
            Err(e)
        };
    }
    if n > 0 && fds[0].revents & libc::POLLNVAL != 0 {
        return Err(std::io::Error::other("file descriptor 0 is not open"));
    }
    Ok(n > 0)
}
