package org.epoll4j;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One change a {@link FileWatcher} saw: what happened, to which name, under which watch.
 *
 * <p>A rename inside watched directories arrives as one {@link Kind#MOVED} event carrying both names (the kernel's
 * {@code IN_MOVED_FROM}/{@code IN_MOVED_TO} pair, matched by their cookie). A name moved out of every watched
 * directory arrives as {@link Kind#MOVED_OUT}, one moved in from elsewhere as {@link Kind#MOVED_IN}.
 */
public final class FileEvent {
    /** What happened. */
    public enum Kind {
        /** A name was created in a watched directory ({@code IN_CREATE}). */
        CREATED,
        /** A file's content changed ({@code IN_MODIFY}). */
        MODIFIED,
        /** A file opened for writing was closed ({@code IN_CLOSE_WRITE}): a good moment to read it. */
        CLOSED_WRITE,
        /** Metadata changed: permissions, timestamps, owner, link count ({@code IN_ATTRIB}). */
        ATTRIBUTES,
        /** A name was deleted from a watched directory ({@code IN_DELETE}). */
        DELETED,
        /** A rename within watched directories: {@link #path()} is the old name, {@link #newPath()} the new. */
        MOVED,
        /** A name left the watched directories by a rename ({@code IN_MOVED_FROM} without its pair). */
        MOVED_OUT,
        /** A name arrived from outside by a rename ({@code IN_MOVED_TO} without its pair). */
        MOVED_IN,
        /** The watched path itself was deleted ({@code IN_DELETE_SELF}); its watch ends next. */
        SELF_DELETED,
        /** The watched path itself was renamed ({@code IN_MOVE_SELF}). */
        SELF_MOVED,
        /** The watch ended: cancelled, or its path deleted or unmounted ({@code IN_IGNORED}). */
        WATCH_ENDED,
        /**
         * The kernel's event queue overflowed ({@code IN_Q_OVERFLOW}): events were lost, for every watch. Rescan
         * what you watch. {@link #watch()} is {@code null}.
         */
        OVERFLOW
    }

    private final Kind kind;
    private final FileWatcher.Watch watch;
    private final Path path;
    private final Path newPath;
    private final boolean directory;

    FileEvent(Kind kind, FileWatcher.Watch watch, Path path, Path newPath, boolean directory) {
        this.kind = kind;
        this.watch = watch;
        this.path = path;
        this.newPath = newPath;
        this.directory = directory;
    }

    /** @return what happened */
    public Kind kind() {
        return kind;
    }

    /** @return the watch the event came through; {@code null} for {@link Kind#OVERFLOW} */
    public FileWatcher.Watch watch() {
        return watch;
    }

    /**
     * @return the path the event is about: the watched path joined with the name inside it (for a watched
     *         directory), or the watched path itself; the old path for {@link Kind#MOVED}; {@code null} for
     *         {@link Kind#OVERFLOW}
     */
    public Path path() {
        return path;
    }

    /** @return the new path of a {@link Kind#MOVED} event; {@code null} for every other kind */
    public Path newPath() {
        return newPath;
    }

    /** @return whether the name is a directory ({@code IN_ISDIR}) */
    public boolean isDirectory() {
        return directory;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FileEvent && ((FileEvent) o).kind == kind && ((FileEvent) o).watch == watch
                && Objects.equals(((FileEvent) o).path, path) && Objects.equals(((FileEvent) o).newPath, newPath)
                && ((FileEvent) o).directory == directory;
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, path, newPath, directory);
    }

    @Override
    public String toString() {
        return kind + (path == null ? "" : " " + path) + (newPath == null ? "" : " -> " + newPath)
                + (directory ? " (dir)" : "");
    }
}
