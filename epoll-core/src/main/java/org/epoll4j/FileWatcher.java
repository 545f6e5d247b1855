package org.epoll4j;

import org.epoll4j.internal.Errno;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;

import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * File-system events on a reactor: one inotify instance, registered on the reactor, delivering typed
 * {@link FileEvent}s to a {@link Listener} on the reactor's thread (libuv's {@code uv_fs_event}).
 *
 * <p>{@link #watch(Path, Set)} watches a file or a directory; a directory's watch reports changes to the names in it,
 * not below it. Recursive watching is the user's choice: watch each subdirectory, and add new ones as their
 * {@link FileEvent.Kind#CREATED} events (with {@link FileEvent#isDirectory()}) arrive; a subtree created faster than
 * that can be missed, so rescan a new directory after watching it. A queue overflow
 * ({@link FileEvent.Kind#OVERFLOW}) means events were lost: rescan.
 *
 * <p>Like {@link Reactor#register}, the methods are called on the reactor's thread (or before it runs). The
 * watcher's fd is non-blocking and close-on-exec. Reading stops after a budget of reads per wake-up, so a storm of
 * changes cannot starve the reactor's other work.
 */
public final class FileWatcher implements AutoCloseable {
    /** Receives a {@link FileWatcher}'s events on the reactor's thread. */
    @FunctionalInterface
    public interface Listener {
        /**
         * One event.
         *
         * @param event what changed
         * @throws Exception any failure: the watcher closes and {@link #onClosed} gets it
         */
        void onEvent(FileEvent event) throws Exception;

        /**
         * The watcher ended.
         *
         * @param cause {@code null} after {@link FileWatcher#close()}; the listener's exception, or the reactor's
         *              {@link ClosedReactorException}
         */
        default void onClosed(Throwable cause) {
        }
    }

    static final int IN_MODIFY = 0x2;
    static final int IN_ATTRIB = 0x4;
    static final int IN_CLOSE_WRITE = 0x8;
    static final int IN_MOVED_FROM = 0x40;
    static final int IN_MOVED_TO = 0x80;
    static final int IN_CREATE = 0x100;
    static final int IN_DELETE = 0x200;
    static final int IN_DELETE_SELF = 0x400;
    static final int IN_MOVE_SELF = 0x800;
    static final int IN_Q_OVERFLOW = 0x4000;
    static final int IN_IGNORED = 0x8000;
    static final int IN_ISDIR = 0x40000000;
    private static final int HEADER = 16; // struct inotify_event: int wd; uint32 mask, cookie, len; char name[]
    private static final int BUFFER = 64 * 1024;
    private static final int READS_PER_WAKEUP = 16;
    private static final Charset FS_CHARSET = Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));

    private final Reactor reactor;
    private final Listener listener;
    private final int fd;
    private final Registration registration;
    private final ByteBuffer buffer = NativeMemory.allocate(BUFFER);
    private final long bufferAddress = NativeMemory.address(buffer);
    private final Map<Integer, Watch> watches = new HashMap<>();
    /** An {@code IN_MOVED_FROM} waiting for the {@code IN_MOVED_TO} with its cookie (the next event, if any). */
    private Watch movedFromWatch;
    private Path movedFromPath;
    private int movedFromCookie;
    private boolean movedFromDir;
    private boolean closed;

    private FileWatcher(Reactor reactor, Listener listener) throws EpollException {
        this.reactor = reactor;
        this.listener = listener;
        int created = LibC.inotify_init1(LibC.IN_NONBLOCK | LibC.IN_CLOEXEC);
        if (created < 0) {
            int errno = LibC.errno();
            throw new EpollException("inotify_init1(IN_NONBLOCK|IN_CLOEXEC)"
                    + (errno == Errno.EMFILE ? " (fs.inotify.max_user_instances reached?)" : ""), errno);
        }
        this.fd = created;
        try {
            this.registration = reactor.register(fd, Interest.READ, TriggerMode.LEVEL, new Handler() {
                @Override
                public void onReady(Registration r, Ready ready) throws Exception {
                    drain();
                }

                @Override
                public void onClosed(Registration r, Throwable cause) {
                    ended(cause);
                }
            });
        } catch (RuntimeException | EpollException e) {
            LibC.close(fd);
            throw e;
        }
    }

    /**
     * Opens a watcher on {@code reactor}: call on the reactor's thread, or before it runs.
     *
     * @param reactor  the reactor that reads the events
     * @param listener receives them
     * @return the watcher, watching nothing yet
     * @throws EpollException if inotify_init1 fails (EMFILE: {@code fs.inotify.max_user_instances})
     */
    public static FileWatcher open(Reactor reactor, Listener listener) throws EpollException {
        return new FileWatcher(Objects.requireNonNull(reactor, "reactor"), Objects.requireNonNull(listener, "listener"));
    }

    /**
     * Watches {@code path} for every kind of event.
     *
     * @param path a file or directory
     * @return its watch
     * @throws EpollException as {@link #watch(Path, Set)}
     */
    public Watch watch(Path path) throws EpollException {
        return watch(path, EnumSet.allOf(FileEvent.Kind.class));
    }

    /**
     * Watches {@code path} for the given kinds ({@link FileEvent.Kind#WATCH_ENDED} and
     * {@link FileEvent.Kind#OVERFLOW} are always reported). Watching a path that is already watched (the same
     * inode) replaces its kinds and returns the same {@link Watch}.
     *
     * @param path  a file or directory
     * @param kinds what to report
     * @return its watch
     * @throws EpollException        if inotify_add_watch fails: ENOENT (no such path), EACCES, ENOSPC
     *                               ({@code fs.inotify.max_user_watches} reached)
     * @throws IllegalStateException if the watcher is closed
     */
    public Watch watch(Path path, Set<FileEvent.Kind> kinds) throws EpollException {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(kinds, "kinds");
        if (closed) {
            throw new IllegalStateException("watch(" + path + "): the watcher is closed");
        }
        int mask = mask(kinds);
        byte[] name = path.toString().getBytes(FS_CHARSET);
        if (name.length + 1 > BUFFER) {
            throw new IllegalArgumentException("watch: path too long: " + path);
        }
        // The read buffer doubles as the C string's home: nothing is being read while we are on the loop thread.
        buffer.clear();
        buffer.put(name).put((byte) 0);
        int wd = LibC.inotify_add_watch(fd, bufferAddress, mask);
        if (wd < 0) {
            int errno = LibC.errno();
            throw new EpollException("inotify_add_watch(" + path + ")"
                    + (errno == Errno.ENOSPC ? " (fs.inotify.max_user_watches reached)" : ""), errno);
        }
        Watch w = watches.get(wd);
        if (w == null) {
            w = new Watch(wd, path);
            watches.put(wd, w);
        }
        w.kinds = EnumSet.copyOf(kinds);
        return w;
    }

    private static int mask(Set<FileEvent.Kind> kinds) {
        int mask = 0;
        for (FileEvent.Kind k : kinds) {
            switch (k) {
                case CREATED: mask |= IN_CREATE; break;
                case MODIFIED: mask |= IN_MODIFY; break;
                case CLOSED_WRITE: mask |= IN_CLOSE_WRITE; break;
                case ATTRIBUTES: mask |= IN_ATTRIB; break;
                case DELETED: mask |= IN_DELETE; break;
                case MOVED: case MOVED_OUT: case MOVED_IN: mask |= IN_MOVED_FROM | IN_MOVED_TO; break;
                case SELF_DELETED: mask |= IN_DELETE_SELF; break;
                case SELF_MOVED: mask |= IN_MOVE_SELF; break;
                default: break; // WATCH_ENDED and OVERFLOW are always on
            }
        }
        return mask == 0 ? IN_DELETE_SELF : mask; // inotify refuses an empty mask; a watch ends with its path anyway
    }

    /** The reactor this watcher reads on. */
    public Reactor reactor() {
        return reactor;
    }

    /** How many paths are watched now. */
    public int watchCount() {
        return watches.size();
    }

    /** Stops every watch and closes the inotify fd; the listener's {@code onClosed(null)} follows. Idempotent. */
    @Override
    public void close() {
        registration.cancel();
    }

    private void drain() throws Exception {
        for (int i = 0; i < READS_PER_WAKEUP && !closed; i++) {
            long n = LibC.read(fd, bufferAddress, BUFFER);
            if (n < 0) {
                int errno = LibC.errno();
                if (errno == Errno.EAGAIN) {
                    break;
                }
                if (errno == Errno.EINTR) {
                    continue;
                }
                throw new EpollException("read(inotify fd=" + fd + ")", errno);
            }
            parse((int) n);
        }
        flushMovedFrom(); // the queue is empty (or the budget is spent): no IN_MOVED_TO is coming for it now
    }

    private void parse(int length) throws Exception {
        int at = 0;
        while (at + HEADER <= length && !closed) {
            int wd = buffer.getInt(at);
            int mask = buffer.getInt(at + 4);
            int cookie = buffer.getInt(at + 8);
            int nameLength = buffer.getInt(at + 12);
            String name = null;
            if (nameLength > 0) {
                int end = at + HEADER;
                while (end < at + HEADER + nameLength && buffer.get(end) != 0) {
                    end++;
                }
                byte[] bytes = new byte[end - at - HEADER];
                buffer.get(at + HEADER, bytes);
                name = new String(bytes, FS_CHARSET);
            }
            at += HEADER + nameLength;
            event(wd, mask, cookie, name);
        }
    }

    private void event(int wd, int mask, int cookie, String name) throws Exception {
        if ((mask & IN_Q_OVERFLOW) != 0) {
            flushMovedFrom();
            listener.onEvent(new FileEvent(FileEvent.Kind.OVERFLOW, null, null, null, false));
            return;
        }
        Watch w = watches.get(wd);
        if (w == null) {
            return; // an event queued before its watch was cancelled
        }
        boolean dir = (mask & IN_ISDIR) != 0;
        Path path = name == null ? w.path : w.path.resolve(name);
        if ((mask & IN_MOVED_TO) != 0 && movedFromPath != null && movedFromCookie == cookie) {
            Watch from = movedFromWatch;
            Path old = movedFromPath;
            movedFromPath = null;
            movedFromWatch = null;
            if (from.kinds.contains(FileEvent.Kind.MOVED) || w.kinds.contains(FileEvent.Kind.MOVED)) {
                listener.onEvent(new FileEvent(FileEvent.Kind.MOVED, w, old, path, dir));
            }
            return;
        }
        flushMovedFrom();
        if ((mask & IN_MOVED_FROM) != 0) {
            movedFromWatch = w;
            movedFromPath = path;
            movedFromCookie = cookie;
            movedFromDir = dir;
            return;
        }
        if ((mask & IN_CREATE) != 0) {
            deliver(w, FileEvent.Kind.CREATED, path, dir);
        }
        if ((mask & IN_MODIFY) != 0) {
            deliver(w, FileEvent.Kind.MODIFIED, path, dir);
        }
        if ((mask & IN_ATTRIB) != 0) {
            deliver(w, FileEvent.Kind.ATTRIBUTES, path, dir);
        }
        if ((mask & IN_CLOSE_WRITE) != 0) {
            deliver(w, FileEvent.Kind.CLOSED_WRITE, path, dir);
        }
        if ((mask & IN_DELETE) != 0) {
            deliver(w, FileEvent.Kind.DELETED, path, dir);
        }
        if ((mask & IN_MOVED_TO) != 0) {
            deliver(w, FileEvent.Kind.MOVED_IN, path, dir);
        }
        if ((mask & IN_DELETE_SELF) != 0) {
            deliver(w, FileEvent.Kind.SELF_DELETED, path, dir);
        }
        if ((mask & IN_MOVE_SELF) != 0) {
            deliver(w, FileEvent.Kind.SELF_MOVED, path, dir);
        }
        if ((mask & IN_IGNORED) != 0) {
            watches.remove(wd);
            w.active = false;
            listener.onEvent(new FileEvent(FileEvent.Kind.WATCH_ENDED, w, w.path, null, false));
        }
    }

    private void deliver(Watch w, FileEvent.Kind kind, Path path, boolean dir) throws Exception {
        if (w.kinds.contains(kind)) {
            listener.onEvent(new FileEvent(kind, w, path, null, dir));
        }
    }

    private void flushMovedFrom() throws Exception {
        if (movedFromPath != null) {
            Watch w = movedFromWatch;
            Path path = movedFromPath;
            movedFromPath = null;
            movedFromWatch = null;
            deliver(w, FileEvent.Kind.MOVED_OUT, path, movedFromDir);
        }
    }

    private void ended(Throwable cause) {
        closed = true;
        LibC.close(fd);
        for (Watch w : watches.values()) {
            w.active = false;
        }
        watches.clear();
        listener.onClosed(cause);
    }

    /** One watched path. */
    public final class Watch {
        private final int wd;
        private final Path path;
        private Set<FileEvent.Kind> kinds;
        private boolean active = true;

        private Watch(int wd, Path path) {
            this.wd = wd;
            this.path = path;
        }

        /** @return the path as given to {@link FileWatcher#watch} */
        public Path path() {
            return path;
        }

        /** @return whether the watch still reports events */
        public boolean isActive() {
            return active;
        }

        /**
         * Stops this watch (on the reactor's thread); a {@link FileEvent.Kind#WATCH_ENDED} event follows. Idempotent.
         *
         * @throws EpollException if inotify_rm_watch fails for a reason other than the watch having ended already
         */
        public void cancel() throws EpollException {
            if (!active || closed) {
                return;
            }
            if (LibC.inotify_rm_watch(fd, wd) < 0) {
                int errno = LibC.errno();
                if (errno != Errno.EINVAL) { // EINVAL: the kernel ended it already (IN_IGNORED is queued)
                    throw new EpollException("inotify_rm_watch(" + path + ")", errno);
                }
            }
        }

        @Override
        public String toString() {
            return "Watch[" + path + (active ? "" : ", ended") + "]";
        }
    }

    @Override
    public String toString() {
        return "FileWatcher[fd=" + fd + ", watches=" + watches.size() + (closed ? ", closed" : "") + "]";
    }
}
