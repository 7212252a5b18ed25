//! `inotify(7)`: the reactor watches every cgroup leaf's `cgroup.events`
//! through one non-blocking inotify fd.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use rustix::fs::inotify;

/// `inotify_init1(IN_NONBLOCK | IN_CLOEXEC)`—a new inotify fd.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/inotify_init1.2.html)
pub fn init() -> io::Result<OwnedFd> {
    Ok(inotify::init(
        inotify::CreateFlags::NONBLOCK | inotify::CreateFlags::CLOEXEC,
    )?)
}

/// `inotify_add_watch(fd, path, IN_MODIFY)`—the watch descriptor.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/inotify_add_watch.2.html)
pub fn watch_modify(fd: impl AsFd, path: &Path) -> io::Result<i32> {
    Ok(inotify::add_watch(fd, path, inotify::WatchFlags::MODIFY)?)
}

/// `inotify_rm_watch(fd, wd)`.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/inotify_rm_watch.2.html)
pub fn unwatch(fd: impl AsFd, wd: i32) -> io::Result<()> {
    Ok(inotify::remove_watch(fd, wd)?)
}

/// `read(fd, ...)` until it would block—the watch descriptor of every
/// queued event.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man7/inotify.7.html)
pub fn drain(fd: impl AsFd) -> Vec<i32> {
    let mut wds = Vec::new();
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 4096];
    let mut reader = inotify::Reader::new(fd, &mut buf);
    while let Ok(ev) = reader.next() {
        wds.push(ev.wd());
    }
    wds
}
